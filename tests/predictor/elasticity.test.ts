import assert from 'node:assert/strict';
import { test } from 'node:test';
import seedrandom from 'seedrandom';
import { features, getSpace, sampleArchs, spaceUnits } from '../../ops-library/index.ts';
import { buildLutPredictor, evaluatePredictors, trainPredictor, type NetworkSample } from '../../predictor/index.ts';
import { calibrationFactor, calibrationSlope } from '../../predictor/elasticity.ts';

test('calibrationSlope recovers the slope of group means, and says 0 without enough groups or spread', () => {
  const rng = seedrandom.alea('slope');
  const x: number[] = [];
  const r: number[] = [];
  for (let g = 0; g < 30; g++) {
    const gx = 0.3 * (rng() - 0.5);
    for (let i = 0; i < 12; i++) {
      x.push(gx);
      r.push(-0.4 * gx + 0.03 * (rng() - 0.5));
    }
  }
  const s = calibrationSlope(x, r);
  assert.ok(Math.abs(s + 0.4) < 0.05, `slope ${s}`);
  // 5 groups: their noise could be the whole slope
  assert.equal(calibrationSlope(x.slice(0, 60), r.slice(0, 60)), 0);
  // every group at (almost) the same calibration
  assert.equal(calibrationSlope(x.map((v) => v * 0.01), r), 0);
  // clamped to β in [0, 2]
  assert.equal(calibrationSlope(x, x.map((v) => -5 * v)), -1);
  assert.throws(() => calibrationSlope([1], []), (e: Error) => e instanceof RangeError && /same length/.test(e.message));
});

test('calibrationFactor is (current / reference)^β; 1 without a calibration; rejects a non-positive one', () => {
  assert.equal(calibrationFactor({ current: 2, reference: 1, elasticity: 0.5 }), Math.SQRT2);
  assert.equal(calibrationFactor({ current: undefined, reference: 1, elasticity: 0.5 }), 1);
  assert.equal(calibrationFactor({ current: 2, reference: null, elasticity: 0.5 }), 1);
  for (const bad of [0, -1, Number.NaN]) assert.throws(() => calibrationFactor({ current: bad, reference: 1, elasticity: 1 }), (e: Error) => e instanceof RangeError && /'calibrationMs' must be > 0/.test(e.message));
});

/** Networks whose latency follows the calibration with exponent 0.6, stored as the store does: normalised with exponent 1. */
async function elasticData(beta: number) {
  const space = getSpace('fbnet');
  const lutMs = new Map<string, number>();
  for (const [key, spec] of spaceUnits(space)) {
    const f = features(spec);
    lutMs.set(key, 0.01 + f.flops / 2e7 + f.memoryBytes / 1e7);
  }
  const ref = 0.6;
  const base = { deviceId: 'dev-elastic00001', space, calibrationMs: ref, lutMs };
  const sums = (await buildLutPredictor(base)).predictBatch(sampleArchs(space, { count: 480, seed: 3 }), { kind: 'lut-sum' });
  const archs = sampleArchs(space, { count: 480, seed: 3 });
  const rng = seedrandom.alea('elastic');
  let cal = ref;
  const networks: NetworkSample[] = archs.map((arch, i) => {
    if (i % 12 === 0) cal = ref * Math.exp(0.25 * (rng() - 0.5)); // a new group, a new machine speed
    const raw = (sums[i] as number) * 0.7 * Math.pow(cal / ref, beta) * (1 + 0.01 * (rng() - 0.5));
    return { arch, ms: (raw * ref) / cal, passId: 'pass-elastic', calibrationMs: cal };
  });
  return { base, networks, ref };
}

test('a predictor learns the calibration elasticity of its networks and predicts at a calibration with it', async () => {
  const { base, networks, ref } = await elasticData(0.6);
  const p = await trainPredictor({ ...base, networks, encodingBaseline: false, epochs: 5 });
  const beta = p.data.calibrationElasticity as number;
  assert.ok(Math.abs(beta - 0.6) < 0.1, `learned β ${beta}, made with 0.6`);
  const arch = networks[0]?.arch as string;
  const atRef = p.predict(arch).ms;
  assert.ok(Math.abs(p.predict(arch, { calibrationMs: 1.2 * ref }).ms / atRef - Math.pow(1.2, beta)) < 1e-9);
  // held-out evaluation compares at each measurement's own calibration: the elastic data are
  // predicted within ±10% almost everywhere (with exponent-1 normalisation the ±12% swings of
  // the calibration would leave ±5% errors on top of the model's own)
  const ev = await evaluatePredictors({ ...base, networks, encodingBaseline: false, epochs: 5 });
  const m = ev.splits[0]?.metrics.composite;
  assert.ok(m && m.mape < 0.03, `MAPE ${m?.mape}`);
});

test('networks that follow the calibration exactly keep β ≈ 1', async () => {
  const { base, networks } = await elasticData(1);
  const p = await trainPredictor({ ...base, networks, encodingBaseline: false, epochs: 5 });
  assert.ok(Math.abs((p.data.calibrationElasticity as number) - 1) < 0.1, `β ${p.data.calibrationElasticity}`);
});
