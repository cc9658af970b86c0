import assert from 'node:assert/strict';
import { test } from 'node:test';
import seedrandom from 'seedrandom';
import { features, getSpace, sampleArchs, spaceUnits } from '../../ops-library/index.ts';
import { buildLutPredictor, LatencyPredictor, loadPredictor, savePredictor, trainPredictor, type NetworkSample } from '../../predictor/index.ts';
import { fitRbfResidual, rbfResidualAt, RBF_RESIDUAL_MAX_SUPPORT } from '../../predictor/rbf-residual.ts';
import { choiceIndices } from '../../predictor/choices.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CHOICES = [5, 5, 5, 5, 5, 5];
const randomCodes = (n: number, seed: string) => {
  const rng = seedrandom.alea(seed);
  return Array.from({ length: n }, () => Int32Array.from(CHOICES, (c) => Math.floor(rng() * c)));
};
// an interaction no sum over positions can express: +20% when positions 0 and 2 agree
const truth = (c: Int32Array) => (c[0] === c[2] ? 0.2 : 0) - 0.04;

test('the RBF correction learns an interaction between positions and generalises to unseen architectures', () => {
  const train = randomCodes(300, 'train');
  const test = randomCodes(300, 'test');
  const k = fitRbfResidual({ codes: train, choices: CHOICES, logResidual: train.map(truth), gamma: 0.7, lambda: 0.1 });
  const err = (f: (c: Int32Array) => number) => test.reduce((a, c) => a + Math.abs(f(c) - truth(c)), 0) / test.length;
  const before = err(() => 0);
  const after = err((c) => rbfResidualAt(k, c));
  assert.ok(after < 0.75 * before, `mean abs error ${after} vs ${before} without the correction`);
});

test('the tabulated path (after a few thousand calls) gives the same corrections as the direct sum', () => {
  const train = randomCodes(200, 'tab');
  const k = fitRbfResidual({ codes: train, choices: CHOICES, logResidual: train.map(truth), gamma: 0.3, lambda: 0.3 });
  const probe = randomCodes(50, 'probe');
  const direct = probe.map((c) => rbfResidualAt(k, c));
  for (let i = 0; i < 5000; i++) rbfResidualAt(k, probe[i % probe.length] as Int32Array);
  probe.forEach((c, i) => assert.ok(Math.abs(rbfResidualAt(k, c) - (direct[i] as number)) < 1e-12, `probe ${i}`));
});

test('fitRbfResidual rejects mismatched lengths, bad hyperparameters and too large a support, naming them', () => {
  const c = randomCodes(3, 'bad');
  assert.throws(() => fitRbfResidual({ codes: c, choices: CHOICES, logResidual: [0, 0], gamma: 1, lambda: 1 }), (e: Error) => e instanceof RangeError && /'codes' and 'logResidual'/.test(e.message));
  assert.throws(() => fitRbfResidual({ codes: c, choices: CHOICES, logResidual: [0, 0, 0], gamma: 0, lambda: 1 }), (e: Error) => e instanceof RangeError && /'gamma' and 'lambda'/.test(e.message));
  assert.throws(() => fitRbfResidual({ codes: c, choices: [5, 5], logResidual: [0, 0, 0], gamma: 1, lambda: 1 }), (e: Error) => e instanceof RangeError && /'choices'/.test(e.message));
  const many = randomCodes(RBF_RESIDUAL_MAX_SUPPORT + 1, 'many');
  assert.throws(() => fitRbfResidual({ codes: many, choices: CHOICES, logResidual: many.map(() => 0), gamma: 1, lambda: 1 }), (e: Error) => e instanceof RangeError && /at most 800/.test(e.message));
});

// Its differentiable model (LatencyModel.fromPredictor) is not built here: that enumerates all
// 15,625 networks' units (~25 s CPU per process), and tests/predictor/differentiable/
// latency-model.test.ts already pays for it with a NAS-Bench-201 predictor that carries the RBF
// correction (asserted there): its one-hot grids equal the predictor's own predictions.
test('NAS-Bench-201: the predictor keeps the RBF correction when the cell has an interaction, saves and loads it', async () => {
  const space = getSpace('nasbench201');
  const lutMs = new Map<string, number>();
  for (const [key, spec] of spaceUnits(space)) {
    const f = features(spec);
    lutMs.set(key, 0.01 + f.flops / 2e7 + f.memoryBytes / 1e7);
  }
  const base = { deviceId: 'dev-kernel000001', space, calibrationMs: null, lutMs };
  const archs = sampleArchs(space, { count: 300, seed: 9 });
  const sums = (await buildLutPredictor(base)).predictBatch(archs, { kind: 'lut-sum' });
  const rng = seedrandom.alea('kernel');
  const networks: NetworkSample[] = archs.map((arch, i) => ({ arch, ms: (sums[i] as number) * 0.5 * Math.exp(truth(choiceIndices(space, arch))) * (1 + 0.01 * (rng() - 0.5)), passId: 'p' }));
  const p = await trainPredictor({ ...base, networks, encodingBaseline: false, epochs: 5 });
  assert.ok(p.data.kernelResidual, 'the RBF correction was kept');
  // on architectures neither saw, the correction beats the same predictor without it
  const fresh = sampleArchs(space, { count: 200, seed: 78 });
  const freshSums = (await buildLutPredictor(base)).predictBatch(fresh, { kind: 'lut-sum' });
  const truthMs = fresh.map((a, i) => (freshSums[i] as number) * 0.5 * Math.exp(truth(choiceIndices(space, a))));
  const without = new LatencyPredictor({ ...p.data, kernelResidual: null }, null, p.residualModel);
  const mape = (q: LatencyPredictor) => {
    const pr = q.predictBatch(fresh, { kind: 'composite' });
    return truthMs.reduce((a, t, i) => a + Math.abs((pr[i] as number) / t - 1), 0) / truthMs.length;
  };
  assert.ok(mape(p) < 0.9 * mape(without), `MAPE ${mape(p)} with the correction, ${mape(without)} without`);
  const dir = mkdtempSync(join(tmpdir(), 'hwlat-kernel-'));
  try {
    await savePredictor(p, dir);
    const q = await loadPredictor(dir);
    const probe = sampleArchs(space, { count: 40, seed: 77 });
    assert.ok(q.data.kernelResidual, 'the loaded predictor has the correction');
    assert.deepEqual(Array.from(q.predictBatch(probe)), Array.from(p.predictBatch(probe)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
