// Benchmark of the measurement harness itself (agent/harness):
//  (a) overhead: the per-run time the harness reports vs a bare loop of session.run timed as a whole;
//  (b) repeatability: the same models measured in several passes, interleaved vs each model alone.
// Usage: npx tsx scripts/bench/harness.ts [--json] [--threads 1] [--passes 5] [--repeats 500]
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { median } from 'simple-statistics';
import { createBackend } from '../../agent/backends/registry.ts';
import { probeModel } from '../../agent/backends/probe-model.ts';
import { calibrationModel } from '../../conditions/index.ts';
import { buildOnnx, lowerSpec } from '../../ops-library/index.ts';
import { makeFeeds } from '../../agent/backends/ort-feeds.ts';
import type { LoadedModel } from '../../agent/backends/types.ts';
import { measureInterleaved, measureOne } from '../../agent/harness/harness.ts';
import { fingerprint } from '../../agent/fingerprint.ts';

const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    threads: { type: 'string', default: '1' },
    passes: { type: 'string', default: '5' },
    repeats: { type: 'string', default: '500' },
    warmup: { type: 'string', default: '5' },
  },
});
const threads = Number(args.threads);
const passes = Number(args.passes);
const repeats = Number(args.repeats);
const warmup = Number(args.warmup);

function conv(cin: number, cout: number, k: number, hw: number, group = 1): Uint8Array {
  return buildOnnx(lowerSpec({ op: 'conv2d', input: [cin, hw, hw], out: cout, kernel: k, groups: group }));
}

/** [m, k] x [k, n] as a Linear layer over a batch of m rows */
function matmul(m: number, k: number, n: number): Uint8Array {
  return buildOnnx(lowerSpec({ op: 'linear', input: [k], out: n, bias: false }), { batch: m });
}

const MODELS: ReadonlyArray<[string, Uint8Array]> = [
  ['conv3x3 32>32 56²', conv(32, 32, 3, 56)],
  ['conv1x1 32>64 56²', conv(32, 64, 1, 56)],
  ['dwconv3x3 96 56²', conv(96, 96, 3, 56, 96)],
  ['matmul 128x512x512', matmul(128, 512, 512)],
];
const OVERHEAD_MODELS: ReadonlyArray<[string, Uint8Array]> = [['relu 16 (probe)', probeModel()], MODELS[2]!, MODELS[0]!];
// the profiler's own calibration workload, so these figures describe what `hwlat profile` does
const CALIBRATION = calibrationModel();

const ALTERNATIONS = 7;
const LOOP_MS = 200;

const spread = (xs: number[]): number => Math.max(...xs) / Math.min(...xs) - 1;

/** Per-run ms of a loop timed as a whole: the floor any per-run timing can be compared against. */
async function loopMs(run: () => Promise<unknown>, n: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await run();
  return (performance.now() - t0) / n;
}

async function overhead(name: string, bytes: Uint8Array) {
  const session = await ort.InferenceSession.create(bytes, {
    executionProviders: ['cpu'],
    executionMode: 'sequential',
    interOpNumThreads: 1,
    ...(threads > 0 ? { intraOpNumThreads: threads } : {}),
  });
  const feeds = makeFeeds(session);
  const backend = await createBackend('ort-node', { threads });
  const model = await backend.load(bytes);
  const bare = () => session.run(feeds);
  const estimate = await loopMs(bare, 20);
  // ~LOOP_MS per loop, so tiny ops get thousands of runs and big ones still a hundred
  const n = Math.min(20000, Math.max(100, Math.ceil(LOOP_MS / estimate)));
  const rows: Array<{ bare: number; wrapped: number; median: number; mean: number }> = [];
  // Alternate the three loops so the machine's drift falls on all of them alike; ratios are taken
  // within one alternation (paired), then the median over alternations.
  for (let rep = 0; rep < ALTERNATIONS; rep++) {
    const bareMs = await loopMs(bare, n);
    const wrappedMs = await loopMs(() => model.run(), n);
    const r = await measureOne(model, { warmup: 0, minRepeats: n, maxRepeats: n, minTimeMs: 0 });
    rows.push({ bare: bareMs, wrapped: wrappedMs, median: r.stats.median, mean: r.samples.reduce((a, b) => a + b, 0) / n });
  }
  await session.release();
  await backend.dispose();
  const med = (f: (r: (typeof rows)[number]) => number) => median(rows.map(f));
  return {
    model: name,
    runs: n,
    alternations: ALTERNATIONS,
    bareMs: med((r) => r.bare),
    loadedModelMs: med((r) => r.wrapped),
    harnessMedianMs: med((r) => r.median),
    harnessMeanMs: med((r) => r.mean),
    medianRatio: med((r) => r.median / r.bare),
    meanRatio: med((r) => r.mean / r.bare),
    meanRatioRange: [Math.min(...rows.map((r) => r.mean / r.bare)), Math.max(...rows.map((r) => r.mean / r.bare))],
    overheadUs: med((r) => (r.mean - r.bare) * 1000),
  };
}

async function repeatability() {
  const backend = await createBackend('ort-node', { threads });
  const models: LoadedModel[] = [];
  for (const [, bytes] of MODELS) models.push(await backend.load(bytes));
  const calibration = await backend.load(CALIBRATION);
  // The same runs per model in both modes, so the only difference is the order they run in.
  const opts = { warmup, minRepeats: repeats, maxRepeats: repeats, minTimeMs: 0 };
  const inter: Array<{ medians: number[]; cvs: number[]; cal: number }> = [];
  const alone: Array<{ medians: number[]; cvs: number[] }> = [];
  const t0 = performance.now();
  for (let p = 0; p < passes; p++) {
    const runInter = async () => {
      const r = await measureInterleaved(models, { ...opts, calibration });
      inter.push({ medians: r.results.map((x) => x.stats.median), cvs: r.results.map((x) => x.stats.cv), cal: r.calibration!.stats.median });
    };
    const runAlone = async () => {
      const rs: Awaited<ReturnType<typeof measureOne>>[] = [];
      for (const m of models) rs.push(await measureOne(m, opts));
      alone.push({ medians: rs.map((x) => x.stats.median), cvs: rs.map((x) => x.stats.cv) });
    };
    // Alternate which mode goes first, so neither always runs on a fresher machine.
    for (const run of p % 2 === 0 ? [runInter, runAlone] : [runAlone, runInter]) await run();
  }
  const seconds = (performance.now() - t0) / 1000;
  await backend.dispose();
  const rows = MODELS.map(([name], i) => {
    const im = inter.map((x) => x.medians[i]!);
    const am = alone.map((x) => x.medians[i]!);
    return {
      model: name,
      interleaved: {
        medianMs: median(im),
        medianCv: median(inter.map((x) => x.cvs[i]!)),
        spread: spread(im),
        // divided by the pass's calibration median: what calibration normalisation leaves
        spreadNormalised: spread(inter.map((x) => x.medians[i]! / x.cal)),
      },
      alone: { medianMs: median(am), medianCv: median(alone.map((x) => x.cvs[i]!)), spread: spread(am) },
    };
  });
  return { passes, repeats, seconds, calibrationTrace: inter.map((x) => x.cal), rows };
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const ms = (x: number) => x.toFixed(4);

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) => r.map((x, c) => (c === 0 ? x.padEnd(widths[c]!) : x.padStart(widths[c]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

const started = performance.now();
const infoBackend = await createBackend('ort-node', { threads });
const device = await fingerprint(infoBackend.info);
await infoBackend.dispose();
const overheadRows = [];
for (const [name, bytes] of OVERHEAD_MODELS) overheadRows.push(await overhead(name, bytes));
const rep = await repeatability();
const totalSeconds = (performance.now() - started) / 1000;

if (args.json) {
  console.log(JSON.stringify({ device, overhead: overheadRows, repeatability: rep, totalSeconds }, null, 2));
} else {
  console.log(`device ${device.id} (${device.name}), ${device.hardware.cores} cores, ${device.hardware.os}`);
  console.log(`\n(a) harness overhead: per-run ms; medians over ${ALTERNATIONS} alternations of bare loop / LoadedModel loop / harness`);
  console.log(
    table(
      ['model', 'runs', 'bare ort', 'LoadedModel', 'harness med', 'harness mean', 'med/bare', 'mean/bare', 'mean/bare range', 'overhead µs'],
      overheadRows.map((r) => [
        r.model, String(r.runs), ms(r.bareMs), ms(r.loadedModelMs), ms(r.harnessMedianMs), ms(r.harnessMeanMs),
        r.medianRatio.toFixed(3), r.meanRatio.toFixed(3), r.meanRatioRange.map((x) => x.toFixed(2)).join('–'), r.overheadUs.toFixed(1),
      ]),
    ),
  );
  console.log(`\n(b) repeatability over ${rep.passes} passes, ${rep.repeats} runs per model per pass (${rep.seconds.toFixed(1)} s)`);
  console.log(`    cv = median over passes of each pass's cv; spread = max/min - 1 of the pass medians`);
  console.log(
    table(
      ['model', 'median ms', 'inter cv', 'inter spread', 'inter spread/cal', 'alone cv', 'alone spread'],
      rep.rows.map((r) => [
        r.model, ms(r.interleaved.medianMs), pct(r.interleaved.medianCv), pct(r.interleaved.spread),
        pct(r.interleaved.spreadNormalised), pct(r.alone.medianCv), pct(r.alone.spread),
      ]),
    ),
  );
  console.log(`calibration medians per pass (ms): ${rep.calibrationTrace.map(ms).join(' ')}`);
  console.log(`total ${totalSeconds.toFixed(1)} s`);
}
