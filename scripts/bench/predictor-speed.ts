// Speed of the latency predictor on FBNet (22 positions × 9 candidates):
//  (a) the LUT-sum path: architectures/s from pre-parsed candidate indices (predictIndices) and
//      from arch strings (predictBatch); target ≥ 1,000,000/s;
//  (b) the full composite predictor (LUT sum + learned correction, + the residual MLP when training
//      kept it), batched; target ≥ 100,000/s;
//  (c) training the network-level model (trainPredictor, encodingBaseline false) on 100,000
//      networks; target < 60 s. It runs in a child process stopped after --train-cap seconds, so a
//      missed target costs minutes, not hours.
// The LUT covers every unit with synthetic figures and the networks' latencies are synthetic
// (LUT sum × 0.7 with an interaction, plus noise): speed does not depend on the values.
// Figures are medians of --reps repetitions (after one untimed warm-up run).
//
//   npx tsx scripts/bench/predictor-speed.ts [--json] [--batch 100000] [--reps 5] [--train 100000]
//                                            [--train-reps 1] [--train-cap 600] [--fallback 2000]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import seedrandom from 'seedrandom';
import { median } from 'simple-statistics';
import { features, getSpace, spaceUnits } from '../../ops-library/index.ts';
import {
  buildLutPredictor, initTf, loadPredictor, savePredictor, trainPredictor, type LatencyPredictor, type NetworkSample,
} from '../../predictor/index.ts';

const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    batch: { type: 'string', default: '100000' },
    reps: { type: 'string', default: '5' },
    train: { type: 'string', default: '100000' },
    'train-reps': { type: 'string', default: '1' },
    'train-cap': { type: 'string', default: '600' },
    fallback: { type: 'string', default: '2000' },
    // internal: the training child process writes its predictor here
    child: { type: 'string' },
  },
});
const num = (name: string, min: number) => {
  const v = Number(args[name as keyof typeof args]);
  if (!Number.isInteger(v) || v < min) throw new RangeError(`'--${name}' must be an integer >= ${min}, got '${String(args[name as keyof typeof args])}'`);
  return v;
};
const BATCH = num('batch', 1);
const REPS = num('reps', 1);
const TRAIN = num('train', 10);
const TRAIN_REPS = num('train-reps', 1);
const TRAIN_CAP_S = num('train-cap', 1);
const FALLBACK = num('fallback', 10);

const space = getSpace('fbnet');
const DEVICE = 'dev-benchmark0001';

/** A synthetic LUT over every unit of the space: per-call overhead + compute + memory traffic. */
function syntheticLut(): Map<string, number> {
  const lut = new Map<string, number>();
  for (const [key, spec] of spaceUnits(space)) {
    const f = features(spec);
    lut.set(key, 0.01 + f.flops / 2e7 + f.memoryBytes / 1e7);
  }
  return lut;
}

/** Uniformly drawn architectures as candidate indices and as arch strings (deterministic per seed). */
function draw(n: number, seed: string): { idx: Int32Array[]; archs: string[] } {
  const rng = seedrandom.alea(seed);
  const idx: Int32Array[] = [];
  const archs: string[] = [];
  for (let i = 0; i < n; i++) {
    const v = Int32Array.from(space.positions, (p) => Math.floor(rng() * p.choices.length));
    idx.push(v);
    archs.push(space.format(space.positions.map((p, j) => (p.choices[v[j] as number] as { name: string }).name)));
  }
  return { idx, archs };
}

/** Synthetic network latencies: LUT sum × 0.7, more when wide (e6) blocks cluster, ±3% noise. */
function syntheticNetworks(lutOnly: LatencyPredictor, n: number, seed: string): NetworkSample[] {
  const { idx, archs } = draw(n, seed);
  const sums = lutOnly.predictIndices(idx, 'lut-sum');
  const rng = seedrandom.alea(`${seed}-noise`);
  const e6 = space.positions.map((p) => p.choices.map((c) => (c.name.includes('_e6') ? 1 : 0)));
  return archs.map((arch, i) => {
    let share = 0;
    (idx[i] as Int32Array).forEach((c, p) => (share += (e6[p] as number[])[c] as number));
    share /= space.positions.length;
    const noise = 1 + 0.03 * (rng() + rng() + rng() - 1.5);
    return { arch, ms: ((sums[i] as number) * 0.7 * (1 + 0.3 * share * share) + 0.05) * noise, passId: 'pass-synthetic' };
  });
}

type Mark = { stage: string; at: number };

async function train(lutMs: Map<string, number>, networks: NetworkSample[], onStage?: (m: Mark) => void): Promise<{ predictor: LatencyPredictor; seconds: number; marks: Mark[] }> {
  await initTf();
  const marks: Mark[] = [];
  const t0 = performance.now();
  const predictor = await trainPredictor({
    deviceId: DEVICE, space, calibrationMs: 1, lutMs, networks, encodingBaseline: false,
    onProgress: (stage) => {
      const m = { stage, at: (performance.now() - t0) / 1000 };
      marks.push(m);
      onStage?.(m);
    },
  });
  return { predictor, seconds: (performance.now() - t0) / 1000, marks };
}

// ---- the training child: train once, save the predictor, report the time ----
if (args.child !== undefined) {
  const lutMs = syntheticLut();
  const lutOnly = await buildLutPredictor({ deviceId: DEVICE, space, calibrationMs: 1, lutMs });
  const networks = syntheticNetworks(lutOnly, TRAIN, 'hwlat-bench-train');
  const r = await train(lutMs, networks, (m) => process.send?.({ type: 'stage', ...m }));
  await savePredictor(r.predictor, args.child);
  process.send?.({ type: 'done', seconds: r.seconds, marks: r.marks });
  process.disconnect?.();
  process.exit(0);
}

// ---- the benchmark ----
const t00 = performance.now();
const backend = await initTf();
const log = (s: string) => {
  if (!args.json) process.stderr.write(`${s}\n`);
};
const load0 = loadavg()[0] as number;

/** Median seconds of `reps` runs of fn (after one untimed warm-up run). */
function timeIt(fn: () => unknown, reps: number): number[] {
  fn();
  const all: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    fn();
    all.push((performance.now() - t0) / 1000);
  }
  return all;
}

interface Row {
  what: string;
  /** archs/s, or seconds for training */
  value: number;
  unit: 'archs/s' | 's';
  target: string;
  pass: boolean;
  /** the repetitions' seconds */
  runs: number[];
  detail: string;
}
const rows: Row[] = [];
const rate = (what: string, n: number, runs: number[], min: number, detail: string) => {
  const value = n / median(runs);
  rows.push({ what, value, unit: 'archs/s', target: `>= ${min}`, pass: value >= min, runs, detail });
};

const lutMs = syntheticLut();
log(`building the LUT-only predictor (${lutMs.size} units) and ${BATCH.toLocaleString('en-US')} architectures…`);
const lutOnly = await buildLutPredictor({ deviceId: DEVICE, space, calibrationMs: 1, lutMs });
const query = draw(BATCH, 'hwlat-bench-query');
let sink = 0;
const consume = (a: Float64Array) => {
  sink += a[a.length - 1] as number;
};

// (a) the LUT-sum path
log('(a) LUT sum…');
rate('(a) lut-sum, predictIndices', BATCH, timeIt(() => consume(lutOnly.predictIndices(query.idx, 'lut-sum')), REPS), 1_000_000, `batch ${BATCH}`);
rate('(a) lut-sum, predictBatch (arch strings)', BATCH, timeIt(() => consume(lutOnly.predictBatch(query.archs, { kind: 'lut-sum' })), REPS), 1_000_000, `batch ${BATCH}`);

// (c) training on TRAIN synthetic networks, in a child process with a time cap
const trainRuns: number[] = [];
let stopped = false;
let lastMarks: Mark[] = [];
let trained: LatencyPredictor | null = null;
const scratch = mkdtempSync(join(tmpdir(), 'hwlat-bench-predictor-'));
try {
  for (let r = 0; r < TRAIN_REPS && !stopped; r++) {
    log(`(c) training on ${TRAIN.toLocaleString('en-US')} networks in a child process (${r + 1}/${TRAIN_REPS}, stopped after ${TRAIN_CAP_S} s)…`);
    const out = join(scratch, `model-${r}`);
    const marks: Mark[] = [];
    const result = await new Promise<{ seconds: number } | null>((resolve, reject) => {
      const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--child', out, '--train', String(TRAIN)], {
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      });
      let done: { seconds: number } | null = null;
      const stop = () => {
        stopped = true;
        child.kill('SIGKILL');
      };
      // the cap counts from the start of trainPredictor: data synthesis and tfjs start-up are not timed
      let timer = setTimeout(stop, 600_000);
      child.on('message', (m: { type: string; seconds?: number; stage?: string; at?: number }) => {
        if (m.type === 'stage') {
          if (marks.length === 0) {
            clearTimeout(timer);
            timer = setTimeout(stop, TRAIN_CAP_S * 1000);
          }
          marks.push({ stage: m.stage as string, at: m.at as number });
          log(`    ${(m.at as number).toFixed(1)} s: ${m.stage}`);
        } else if (m.type === 'done') done = { seconds: m.seconds as number };
      });
      child.on('error', reject);
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        if (done) resolve(done);
        else if (stopped) resolve(null);
        else reject(new Error(`the training child exited with ${code ?? signal}`));
      });
    });
    lastMarks = marks;
    if (result) {
      trainRuns.push(result.seconds);
      trained = await loadPredictor(out);
    }
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
const stageText = (marks: Mark[], end: number) =>
  marks.map((m, i) => `${m.stage} ${((marks[i + 1]?.at ?? end) - m.at).toFixed(1)} s`).join(', ');
if (trainRuns.length > 0 && trained && !stopped) {
  const s = median(trainRuns);
  rows.push({
    what: `(c) trainPredictor, ${TRAIN.toLocaleString('en-US')} networks`, value: s, unit: 's', target: '< 60', pass: s < 60, runs: trainRuns,
    detail: `${trained.data.training.networks} train + ${trained.data.training.validation} validation, ${trained.data.correction.featureNames.length} features, residual MLP ${trained.data.residual ? 'kept' : 'not kept'}; stages: ${stageText(lastMarks, trainRuns.at(-1) as number)}`,
  });
} else {
  rows.push({
    what: `(c) trainPredictor, ${TRAIN.toLocaleString('en-US')} networks`, value: TRAIN_CAP_S, unit: 's', target: '< 60', pass: false, runs: [],
    detail: `stopped after ${TRAIN_CAP_S} s without finishing; stages reached: ${lastMarks.map((m) => `'${m.stage}' at ${m.at.toFixed(1)} s`).join(', ') || 'none'}`,
  });
}

// (b) the full composite, batched
let note = `trained on ${TRAIN} networks`;
if (!trained) {
  log(`(b) training did not finish: training a composite on ${FALLBACK} networks for the prediction speed…`);
  const r = await train(lutMs, syntheticNetworks(lutOnly, FALLBACK, 'hwlat-bench-fallback'));
  trained = r.predictor;
  note = `trained on ${FALLBACK} networks in ${r.seconds.toFixed(1)} s (stages: ${stageText(r.marks, r.seconds)})`;
}
const how = `batch ${BATCH}, ${trained.data.correction.featureNames.length} features${trained.data.residual ? ' + residual MLP' : ', no residual MLP'}; ${note}`;
log('(b) composite…');
rate('(b) composite, predictIndices', BATCH, timeIt(() => consume((trained as LatencyPredictor).predictIndices(query.idx, 'composite')), REPS), 100_000, how);
rate('(b) composite, predictBatch (arch strings)', BATCH, timeIt(() => consume((trained as LatencyPredictor).predictBatch(query.archs, { kind: 'composite' })), REPS), 100_000, how);

const accuracy = trained.data.metrics.composite;
const summary = {
  space: space.name,
  tfBackend: backend,
  node: process.version,
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  loadAverage: { start: load0, end: loadavg()[0] as number },
  batch: BATCH,
  reps: REPS,
  trainNetworks: TRAIN,
  trainReps: TRAIN_REPS,
  trainCapSeconds: TRAIN_CAP_S,
  rows,
  compositeValidation: accuracy ? { within10: accuracy.within10, mape: accuracy.mape } : null,
  allPass: rows.every((r) => r.pass),
  totalSeconds: (performance.now() - t00) / 1000,
  checksum: sink,
};

if (args.json) {
  console.log(JSON.stringify(summary, null, 2));
} else {
  const fmt = (r: Row) => (r.unit === 's' ? `${r.pass || r.runs.length > 0 ? '' : '> '}${r.value.toFixed(1)} s` : `${Math.round(r.value).toLocaleString('en-US')}/s`);
  const target = (r: Row) => (r.unit === 's' ? `${r.target} s` : `${r.target.replace(/\d+/, (d) => Number(d).toLocaleString('en-US'))}/s`);
  const table = [['benchmark', 'median', 'target', 'result'], ...rows.map((r) => [r.what, fmt(r), target(r), r.pass ? 'pass' : 'FAIL'])];
  const widths = (table[0] as string[]).map((_, c) => Math.max(...table.map((row) => (row[c] as string).length)));
  console.log(`predictor speed, ${space.name}: node ${process.version}, tfjs ${backend}, ${summary.cores} × ${summary.cpu}, load average ${load0.toFixed(1)} → ${summary.loadAverage.end.toFixed(1)}`);
  console.log(`medians of ${REPS} reps (training: ${TRAIN_REPS}, stopped after ${TRAIN_CAP_S} s)`);
  table.forEach((row, i) => {
    console.log(row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c] as number) : cell.padStart(widths[c] as number))).join('  '));
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  });
  console.log('');
  for (const r of rows) console.log(`${r.what}: ${r.detail}${r.runs.length > 0 ? `; runs (s): ${r.runs.map((s) => s.toFixed(4)).join(' ')}` : ''}`);
  if (accuracy) console.log(`composite on its validation networks (synthetic): ${(100 * accuracy.within10).toFixed(1)}% within ±10%, MAPE ${(100 * accuracy.mape).toFixed(2)}%`);
  console.log(`total ${summary.totalSeconds.toFixed(1)} s; ${summary.allPass ? 'all targets met' : 'some targets missed'}`);
}
