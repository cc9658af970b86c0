import assert from 'node:assert/strict';
import { test } from 'node:test';
import seedrandom from 'seedrandom';
import { features, getSpace, sampleArchs, spaceUnits } from '../../ops-library/index.ts';
import { anchorFit, buildLutPredictor, evaluatePredictors, networkSamples, trainPredictor, type NetworkSample } from '../../predictor/index.ts';
import type { Measurement } from '../../protocol/index.ts';
import { calibrationFactor, calibrationSlope } from '../../conditions/index.ts';

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

/** Measurements as the store returns them: groups of 12 networks, each group with its calibration and its anchor figure. */
function anchoredMeasurements(o: { beta: number; groups: number; anchors: boolean }): { ms: Measurement[]; base: Map<string, number>; ref: number } {
  const space = getSpace('nasbench201');
  const archs = sampleArchs(space, { count: 12 * o.groups, seed: 5 });
  const rng = seedrandom.alea('anchored');
  const ref = 0.8;
  const base = new Map(archs.map((a, i) => [a, 0.2 + 0.01 * (i % 37)]));
  let cal = ref;
  let speed = 1;
  const ms = archs.map((arch, i): Measurement => {
    if (i % 12 === 0) {
      speed = Math.exp(0.3 * (rng() - 0.5));
      cal = ref * speed;
    }
    const f = Math.pow(speed, o.beta);
    const m: Measurement = {
      id: `result-${String(i).padStart(6, '0')}`, deviceId: 'dev-anchor000001', passId: 'pass-anchor', level: 'network', space: space.name, key: arch, batch: 1, warmup: 3,
      stats: { median: (base.get(arch) as number) * f, mean: 0, p10: 0, p90: 0, stddev: 0, min: 0, cv: 0, repeats: 10, outliers: 0 },
      wallMs: 1, calibrationMs: cal, createdAt: '2026-01-01T00:00:00.000Z',
    };
    if (o.anchors) m.anchorMs = 0.5 * f;
    return m;
  });
  return { ms, base, ref };
}

test('anchorFit measures the anchor\'s elasticity against the calibration; networkSamples normalises by the anchor', () => {
  const { ms, base, ref } = anchoredMeasurements({ beta: 0.6, groups: 20, anchors: true });
  const fit = anchorFit(ms, ref);
  assert.ok(fit);
  assert.equal(fit.groups, 20);
  assert.ok(Math.abs(fit.elasticity - 0.6) < 0.02, `β ${fit.elasticity}`);
  assert.ok(Math.abs(fit.refMs / 0.5 - 1) < 0.01, `anchor at the reference ${fit.refMs}`);
  // every group's drift is gone: each sample is its architecture's latency at the reference
  const samples = networkSamples(ms, ref, fit);
  for (const s of samples) {
    assert.ok(Math.abs(s.ms / (base.get(s.arch) as number) - 1) < 0.01, `${s.arch}: ${s.ms}`);
    assert.ok((s.anchorMs ?? 0) > 0);
  }
  // exponent-1 calibration normalisation leaves the drift that β < 1 means
  const byCal = networkSamples(ms, ref);
  assert.ok(byCal.some((s) => Math.abs(s.ms / (base.get(s.arch) as number) - 1) > 0.03));
  assert.ok(byCal.every((s) => s.anchorMs === undefined));
  // fewer than 8 groups say nothing about β; measurements without anchors give no fit
  assert.equal(anchorFit(anchoredMeasurements({ beta: 0.6, groups: 5, anchors: true }).ms, ref)?.elasticity, 1);
  assert.equal(anchorFit(anchoredMeasurements({ beta: 0.6, groups: 20, anchors: false }).ms, ref), null);
});

test('a predictor trained on anchor-normalised networks takes the anchor\'s elasticity; a bad one is refused', async () => {
  const { ms, ref } = anchoredMeasurements({ beta: 0.6, groups: 20, anchors: true });
  const fit = anchorFit(ms, ref)!;
  const space = getSpace('nasbench201');
  const lutMs = new Map<string, number>();
  for (const [key, spec] of spaceUnits(space)) lutMs.set(key, 0.001 + features(spec).flops / 5e8);
  const opts = { deviceId: 'dev-anchor000001', space, calibrationMs: ref, lutMs, networks: networkSamples(ms, ref, fit), encodingBaseline: false, epochs: 5 };
  const p = await trainPredictor({ ...opts, anchorElasticity: fit.elasticity });
  assert.equal(p.data.calibrationElasticity, fit.elasticity);
  await assert.rejects(trainPredictor({ ...opts, anchorElasticity: -1 }), (e: Error) => e instanceof RangeError && /'anchorElasticity' must be a finite number >= 0, got -1/.test(e.message));
});

test('anchorFit rejects a group whose anchor spiked (its networks fall back to the calibration) but keeps one whose calibration spiked', () => {
  const { ms, base, ref } = anchoredMeasurements({ beta: 0.6, groups: 20, anchors: true });
  // groups 2, 7, 11: the anchor ran 4× slow (a burst on the anchor alone); group 15: the calibration did
  const spiked = ms.map((m, i) => {
    const g = Math.floor(i / 12);
    if ([2, 7, 11].includes(g)) return { ...m, anchorMs: (m.anchorMs as number) * 4 };
    if (g === 15) return { ...m, calibrationMs: (m.calibrationMs as number) * 4 };
    return m;
  });
  const fit = anchorFit(spiked, ref)!;
  assert.equal(fit.rejected.size, 3);
  assert.ok(Math.abs(fit.elasticity - 0.6) < 0.03, `β ${fit.elasticity} despite the spikes`);
  assert.ok(Math.abs(fit.refMs / 0.5 - 1) < 0.02, `anchor at the reference ${fit.refMs}`);
  const samples = networkSamples(spiked, ref, fit);
  samples.forEach((s, i) => {
    const g = Math.floor(i / 12);
    if ([2, 7, 11].includes(g)) assert.equal(s.anchorMs, undefined, `group ${g} is normalised by its calibration`);
    else assert.ok(Math.abs(s.ms / (base.get(s.arch) as number) - 1) < 0.01, `group ${g}: ${s.ms}`);
  });
});
