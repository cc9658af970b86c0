// The differentiable latency model inside a search loop, on this machine (FBNet CIFAR space):
//  (a) forward+backward time of E[latency] (softmax α → E[lat] → ∂/∂α), target < 1 ms;
//  (b) three ProxylessNAS-style searches on MNIST with the same seed and budget: latency term off,
//      on (ProxylessNAS mul#log, defaults α 0.2, β 0.3), and toward a target T; the three found
//      architectures measured together (interleaved rounds) with the agent's harness.
// The predictor is this machine's: `--networks` sampled FBNet networks and every layer key are
// profiled into a temporary SQLite store and trained as `hwlat train` does (or `--model DIR`).
//
//   npx tsx scripts/bench/search.ts [--json] [--model DIR] [--networks 150] [--warmup 80]
//       [--steps 100] [--finetune 400] [--target-ratio 0.8] [--reps 5]
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { median } from 'simple-statistics';
import { CALIBRATION_KEY, createBackend, fingerprint, networkItems, opItems, profileItems } from '../../agent/index.ts';
import { openStore, predictorFor, trainingData } from '../../collector/index.ts';
import { getSpace, sampleArchs, spaceUnits } from '../../ops-library/index.ts';
import { initTf, LatencyModel, loadPredictor, type LatencyPredictor } from '../../predictor/index.ts';
import { loadMnist, measureArchs, runSearch, type SearchResult } from '../../cli/search/index.ts';
import { tf } from '../../predictor/tf.ts';

const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    model: { type: 'string' },
    networks: { type: 'string', default: '150' },
    warmup: { type: 'string', default: '80' },
    steps: { type: 'string', default: '100' },
    finetune: { type: 'string', default: '400' },
    'target-ratio': { type: 'string', default: '0.8' },
    reps: { type: 'string', default: '5' },
  },
});
const num = (name: keyof typeof args) => {
  const v = Number(args[name]);
  if (!Number.isFinite(v) || v <= 0) throw new RangeError(`'--${name}' must be a number > 0, got '${String(args[name])}'`);
  return v;
};
const log = (s: string) => process.stderr.write(`${s}\n`);
const space = getSpace('fbnet');

async function machinePredictor(): Promise<LatencyPredictor> {
  if (args.model) return loadPredictor(args.model);
  const dir = mkdtempSync(join(tmpdir(), 'hwlat-bench-search-'));
  const store = openStore({ path: join(dir, 'lat.sqlite') });
  const backend = await createBackend('ort-node', { threads: 1 });
  try {
    const device = await fingerprint(backend.info);
    await store.upsertDevice(device);
    const passId = `pass-${randomUUID()}`;
    await store.startPass({ id: passId, deviceId: device.id, startedAt: new Date().toISOString(), finishedAt: null, calibrationKey: CALIBRATION_KEY, calibrationMs: null, calibrationTrace: [] });
    const items = [...opItems(space.name, spaceUnits(space)), ...networkItems(space, sampleArchs(space, { count: num('networks'), seed: 0 }))];
    const res = await profileItems(items, {
      backend, deviceId: device.id, passId, warmup: 2, minRepeats: 20, minTimeMs: 100,
      onMeasurements: async (ms) => {
        await store.insertMeasurements(ms);
      },
      onProgress: (done, total) => log(`profile ${done}/${total}`),
    });
    await store.finishPass(passId, { finishedAt: new Date().toISOString(), calibrationMs: res.calibrationMs, calibrationTrace: res.calibrationTrace });
    return await predictorFor(await trainingData(store, device.id, space.name), { encodingBaseline: false });
  } finally {
    await backend.dispose();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await initTf();
const t0 = performance.now();
const predictor = await machinePredictor();
log(`predictor '${predictor.data.chosen}' on ${predictor.data.training.networks} networks (${((performance.now() - t0) / 1000).toFixed(0)} s)`);

// (a) forward + backward of E[latency] through softmax, as a search loop calls it
const model = LatencyModel.fromPredictor(predictor);
const L = model.layers;
const C = model.candidates;
const mask = tf.tensor2d(model.params.candidateNames.flat().map((n) => (n === null ? -1e9 : 0)), [L, C]);
const alpha = tf.variable(tf.randomNormal([L, C], 0, 0.5, 'float32', 1));
const grad = tf.grad((a: tf.Tensor) => model.expected(tf.softmax(tf.add(a, mask)), { validate: false }));
const fwdBwd: number[] = [];
for (let r = 0; r < num('reps'); r++) {
  const n = 300;
  for (let i = 0; i < 30; i++) tf.tidy(() => grad(alpha).dataSync());
  const s = performance.now();
  for (let i = 0; i < n; i++) tf.tidy(() => grad(alpha).dataSync());
  fwdBwd.push((performance.now() - s) / n);
}
const fwdBwdMs = median(fwdBwd);
log(`E[latency] forward+backward: ${fwdBwdMs.toFixed(3)} ms (median of ${fwdBwd.length} × 300)`);

// (b) the searches, at this machine's speed now
const cal = (await measureArchs(space, [])).calibrationMs ?? undefined;
const { train, test } = loadMnist({ train: 4000, test: 1000 });
const budget = { warmupSteps: num('warmup'), searchSteps: num('steps'), finetuneSteps: num('finetune'), batchSize: 32, seed: 0, supernet: { widthDivisor: 8 } };
const run = async (label: string, o: Partial<Parameters<typeof runSearch>[0]>): Promise<SearchResult> => {
  const latency = o.latency === null ? null : LatencyModel.fromPredictor(predictor, { calibrationMs: cal });
  const s = performance.now();
  const r = await runSearch({ space, latency, train, test, ...budget, ...o, onProgress: (stage, done, total, info) => {
    if (done % 50 === 0) log(`${label}: ${stage} ${done}/${total} ce ${info.ce.toFixed(3)}${info.expectedMs !== null ? ` E[lat] ${info.expectedMs.toFixed(3)}` : ''}`);
  } });
  latency?.dispose();
  log(`${label}: ${r.arch} acc ${(100 * r.accuracy).toFixed(2)}% predicted ${r.predictedMs === undefined || r.predictedMs === null ? "– (no latency model in this search)" : `${r.predictedMs.toFixed(3)} ms`} (${((performance.now() - s) / 1000).toFixed(0)} s)`);
  return r;
};
const off = await run('latency off', { latency: null });
const on = await run('latency on', { loss: 'proxyless-mul-log' });
// the target: below the accuracy-only architecture's predicted latency at today's speed
const offPredicted = LatencyModel.fromPredictor(predictor, { calibrationMs: cal }).valueAndGrad(
  off.choices.map((c) => Array.from({ length: C }, (_, i) => (i === c ? 1 : 0))),
).latencyMs;
const targetMs = Number((offPredicted * num('target-ratio')).toFixed(3));
const tgt = await run(`target ${targetMs} ms`, { loss: 'proxyless-add-linear', targetMs, lambda: 1 });

// the three found architectures measured together, interleaved with the calibration network
const measured = await measureArchs(space, [off.arch, on.arch, tgt.arch]);
const [offMs, onMs, tgtRawMs] = measured.ms as [number, number, number];
// the target was set at the search-time speed (calibration `cal`): the machine's speed when the
// archs were measured may differ (it is shared), so the target is judged at the same speed
const speed = cal && measured.calibrationMs ? cal / measured.calibrationMs : 1;
const tgtMs = tgtRawMs * speed;
const out = {
  machine: { cpus: cpus().length, loadavg: loadavg().map((v) => Number(v.toFixed(2))), calibrationMs: cal ?? null, measuredCalibrationMs: measured.calibrationMs },
  predictor: { kind: predictor.data.chosen, networks: predictor.data.training.networks, validation: predictor.data.training.validation, composite: predictor.data.metrics.composite ?? null },
  expectedLatency: { space: space.name, kind: model.params.kind, forwardBackwardMs: fwdBwdMs, targetMs: 1, pass: fwdBwdMs < 1 },
  search: {
    budget,
    off: { arch: off.arch, accuracy: off.accuracy, predictedMs: offPredicted, measuredMs: offMs, seconds: off.seconds },
    on: { arch: on.arch, accuracy: on.accuracy, predictedMs: on.predictedMs, measuredMs: onMs, seconds: on.seconds },
    latencyReduction: 1 - onMs / offMs,
    accuracyDeltaPoints: 100 * (on.accuracy - off.accuracy),
    // "at accuracy within 1 point": the latency-aware architecture loses at most 1 point
    passReduction: 1 - onMs / offMs >= 0.2 && 100 * (on.accuracy - off.accuracy) >= -1,
    target: { targetMs, arch: tgt.arch, accuracy: tgt.accuracy, predictedMs: tgt.predictedMs, measuredRawMs: tgtRawMs, speedFactor: speed, measuredMs: tgtMs, error: tgtMs / targetMs - 1, pass: Math.abs(tgtMs / targetMs - 1) <= 0.1 },
  },
};
model.dispose();
if (args.json) process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
else {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  process.stdout.write([
    `machine: ${out.machine.cpus} cpus, load ${out.machine.loadavg.join(' ')}, calibration ${cal?.toFixed(3)} ms`,
    `E[latency] forward+backward (fbnet, ${model.params.kind}): ${fwdBwdMs.toFixed(3)} ms (target < 1 ms: ${out.expectedLatency.pass ? 'pass' : 'FAIL'})`,
    `latency off: ${off.arch}\n  acc ${pct(off.accuracy)}, measured ${offMs.toFixed(3)} ms`,
    `latency on (mul#log): ${on.arch}\n  acc ${pct(on.accuracy)}, measured ${onMs.toFixed(3)} ms → ${pct(out.search.latencyReduction)} lower, accuracy ${out.search.accuracyDeltaPoints.toFixed(2)} points (target ≥ 20% lower at ≥ −1 point: ${out.search.passReduction ? 'pass' : 'FAIL'})`,
    `target ${targetMs} ms (add#linear): ${tgt.arch}\n  acc ${pct(tgt.accuracy)}, predicted ${tgt.predictedMs?.toFixed(3)} ms, measured ${tgtRawMs.toFixed(3)} ms, ${tgtMs.toFixed(3)} ms at the search-time speed (${pct(out.search.target.error)}; target ±10%: ${out.search.target.pass ? 'pass' : 'FAIL'})`,
  ].join('\n') + '\n');
}
