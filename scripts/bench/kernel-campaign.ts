// How long does the kernel-sampling campaign take on this machine, and what does it store? Runs
// the campaign (ops-library kernelCampaign(), each configuration profiled in context by
// onnxruntime-node's profiler, as `hwlat kernels campaign` does) into a SQLite file, and prints
// per family the configurations run and the mean seconds each took, the projected time of the
// whole campaign from those means, the median share of a profiled run its kernels cover, and the
// calibration trace (the machine's speed during the run). --limit N runs the first N
// configurations (families interleaved, so every family is timed); --minutes M stops starting
// new ones after M minutes.
//
// --backend ort-web:wasm times onnxruntime-web's wasm build in Node instead.
//
//   npx tsx scripts/bench/kernel-campaign.ts [--limit 300] [--minutes 30] [--db out.sqlite] [--backend ort-node:cpu] [--threads 1] [--runs 20] [--warmup 3] [--seed 0] [--json]
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { calibrationClock, createBackend, fingerprint, kernelProfilerFor, parseBackendSpec, runKernelCampaign } from '../../agent/index.ts';
import { openStore } from '../../collector/index.ts';
import { kernelCampaign, SAMPLE_FAMILIES } from '../../ops-library/index.ts';

const { values: args } = parseArgs({
  options: {
    limit: { type: 'string' },
    minutes: { type: 'string' },
    db: { type: 'string' },
    backend: { type: 'string', default: 'ort-node:cpu' },
    threads: { type: 'string', default: '1' },
    runs: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '3' },
    seed: { type: 'string', default: '0' },
    json: { type: 'boolean', default: false },
  },
});

const all = kernelCampaign({ seed: Number(args.seed) });
const samples = args.limit ? all.slice(0, Number(args.limit)) : all;
const dir = args.db ? null : mkdtempSync(join(tmpdir(), 'hwlat-kcampaign-'));
const store = openStore({ path: args.db ?? join(dir as string, 'campaign.sqlite') });
const spec = parseBackendSpec(args.backend);
const backend = await createBackend(spec.name, { provider: spec.provider, threads: Number(args.threads) });
const clock = await calibrationClock(backend);
const load0 = loadavg()[0] as number;
try {
  const device = await fingerprint(backend.info);
  await store.upsertDevice(device);
  const profiler = kernelProfilerFor(backend.info, { runs: Number(args.runs), warmup: Number(args.warmup) });
  if (!profiler) throw new Error(`no kernel profiler for ${args.backend}`);
  // seconds per configuration, per family: the time between progress calls is what one took
  const seconds = new Map<string, number[]>();
  const coverage: number[] = [];
  let last = performance.now();
  const result = await runKernelCampaign({
    samples,
    profiler,
    deviceId: device.id,
    ...(args.minutes ? { budgetMs: Number(args.minutes) * 60_000 } : {}),
    calibrate: clock.measure,
    onProfile: async (p) => {
      await store.insertKernelProfiles([p]);
      if (p.profile.runMs > 0) coverage.push(p.profile.kernels.reduce((a, k) => a + k.ms, 0) / p.profile.runMs);
    },
    onProgress: (done, total, key) => {
      const now = performance.now();
      const family = key.slice(0, key.indexOf(':'));
      seconds.set(family, [...(seconds.get(family) ?? []), (now - last) / 1000]);
      last = now;
      if (!args.json && done % 50 === 0) process.stderr.write(`${done}/${total} ${((now / 1000) | 0)} s\n`);
    },
  });
  const counts = new Map<string, number>();
  for (const s of all) counts.set(s.family, (counts.get(s.family) ?? 0) + 1);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const families = SAMPLE_FAMILIES.map((f) => {
    const xs = seconds.get(f) ?? [];
    return { family: f, campaign: counts.get(f) ?? 0, run: xs.length, meanS: xs.length ? mean(xs) : null, projectedS: xs.length ? mean(xs) * (counts.get(f) ?? 0) : null };
  });
  const projectedMin = families.every((f) => f.projectedS !== null || f.campaign === 0) ? families.reduce((a, f) => a + (f.projectedS ?? 0), 0) / 60 : null;
  coverage.sort((a, b) => a - b);
  const out = {
    device: device.name,
    backend: args.backend,
    threads: backend.info.threads,
    runs: Number(args.runs),
    warmup: Number(args.warmup),
    campaign: all.length,
    profiled: result.profiled,
    failed: result.failed,
    elapsedMin: result.elapsedMs / 60_000,
    projectedFullMin: projectedMin,
    medianKernelCoverage: coverage[coverage.length >> 1] ?? null,
    timedKernels: (await store.listTimedKernels({ deviceId: device.id })).length,
    calibrationMs: result.calibrationTrace,
    loadAverage: { start: load0, end: loadavg()[0] },
    families,
  };
  if (args.json) console.log(JSON.stringify(out, null, 2));
  else {
    console.log(`${out.device}, ${out.threads} thread(s), ${out.runs} runs + ${out.warmup} warm-up per configuration; load average ${load0.toFixed(1)} → ${(loadavg()[0] as number).toFixed(1)}`);
    console.log(`profiled ${out.profiled} of ${out.campaign} configurations in ${out.elapsedMin.toFixed(2)} min (${result.failed.length} failed); ${out.timedKernels} timed kernels stored`);
    console.log(`projected full campaign: ${projectedMin === null ? '(not every family ran)' : `${projectedMin.toFixed(1)} min`}; median Σ kernels / profiled run ${out.medianKernelCoverage?.toFixed(3)}`);
    console.log(`calibration ms: ${result.calibrationTrace.map((c) => c.toFixed(3)).join(' ')}`);
    console.log('family        campaign  run   mean s  projected min');
    for (const f of families) console.log(`${f.family.padEnd(13)} ${String(f.campaign).padStart(8)} ${String(f.run).padStart(4)}  ${f.meanS === null ? '     -' : f.meanS.toFixed(3).padStart(6)}  ${f.projectedS === null ? '-' : (f.projectedS / 60).toFixed(2)}`);
  }
} finally {
  await clock.dispose();
  await backend.dispose();
  await store.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
}
