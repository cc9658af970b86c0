import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deviceLut, trainingData } from '../../collector/index.ts';
import { ContentionDetector, insufficientCleanData, referenceCalibration, summariseQuality, threadWarning } from '../../conditions/index.ts';
import { demoNote } from '../../cli/demo/run-demo.ts';
import { getSpace, sampleArchs, spaceUnits } from '../../ops-library/index.ts';
import type { DeviceProfile, Measurement, MeasurementQuality } from '../../protocol/index.ts';
import { withStore } from '../helpers/store.ts';

const DEV = 'dev-00000000c0de';
const device: DeviceProfile = {
  id: DEV, name: 'quality-test',
  hardware: { cpu: 'test', cores: 2, memoryBytes: 1, os: 'linux', arch: 'x64', gpus: [] },
  runtime: { backend: 'ort-node', provider: 'cpu', version: '1.30.0', threads: 1 },
};
const stats = (median: number, cv = 0.02) => ({ median, mean: median, p10: median * 0.98, p90: median * 1.02, stddev: median * cv, min: median * 0.97, cv, repeats: 20, outliers: 0 });
const disturbed: MeasurementQuality = { verdict: 'disturbed', rounds: 0, discardedRounds: 21, evidence: ['CPU share 0.20–0.25× of usual in 21 of 21 rounds'] };
const remeasured: MeasurementQuality = { verdict: 'remeasured', rounds: 10, discardedRounds: 2, evidence: ['calibration 1.40× its baseline in 2 of 12 rounds'] };

function m(i: number, o: Partial<Measurement>): Measurement {
  return {
    id: `result-q-${String(i).padStart(5, '0')}`, deviceId: DEV, passId: 'pass-q-1', level: 'network', space: 'fbnet', key: 'k', batch: 1, warmup: 3,
    stats: stats(1), wallMs: 10, calibrationMs: 1, createdAt: '2026-01-01T00:00:00.000Z', ...o,
  };
}

test('summariseQuality reads a device by groups: clean, noisy, unreliable, with one line for a note column', async () => {
  const clean = Array.from({ length: 10 }, (_, i) => m(i, { calibrationMs: 1 + i / 100 }));
  assert.equal(summariseQuality(clean).verdict, 'clean');
  assert.equal(summariseQuality(clean).text, 'clean: cv 0.02');
  // 2 of 10 groups re-measured: noisy
  const noisy = clean.map((x, i) => (i < 2 ? { ...x, quality: remeasured } : x));
  const s = summariseQuality(noisy);
  assert.deepEqual([s.verdict, s.groups, s.remeasuredGroups, s.disturbedGroups], ['noisy', 10, 2, 0]);
  assert.equal(s.text, 'noisy: 20% of groups re-measured, cv 0.02');
  // 3 of 10 groups disturbed: unreliable, and the disturbed ones are counted out of the cv
  const bad = clean.map((x, i) => (i < 3 ? { ...x, quality: disturbed, stats: stats(9, 0.9) } : x));
  const b = summariseQuality(bad);
  assert.deepEqual([b.verdict, b.disturbedGroups, b.disturbed, b.medianCv], ['unreliable', 3, 3, 0.02]);
  assert.match(b.text, /^unreliable: 0% of groups re-measured, 30% disturbed \(3 measurements left out\), cv 0.02$/);
});

test('insufficientCleanData: no score from too few usable networks or too small a share', async () => {
  assert.equal(insufficientCleanData({ usable: 40, total: 40 }), null);
  assert.equal(insufficientCleanData({ usable: 0, total: 0 }), null);
  assert.equal(insufficientCleanData({ usable: 8, total: 40 }), 'too little clean data: 8 of 40 networks usable');
  assert.equal(insufficientCleanData({ usable: 9, total: 9 }), 'too little clean data: 9 of 9 networks usable');
  assert.equal(insufficientCleanData({ usable: 30, total: 70 }), 'too little clean data: 30 of 70 networks usable');
});

test('training data and LUTs leave disturbed measurements out, say how many, and agree on one reference calibration', async () => {
  await withStore(async (store) => {
    await store.upsertDevice(device);
    await store.startPass({ id: 'pass-q-1', deviceId: DEV, startedAt: '2026-01-01T00:00:00.000Z', finishedAt: null, calibrationKey: 'c', calibrationMs: null, calibrationTrace: [] });
    const space = getSpace('fbnet');
    const units = [...spaceUnits(space).keys()];
    const archs = sampleArchs(space, { count: 30, seed: 3 });
    let i = 0;
    const ops = units.map((key) => m(i++, { level: 'op', key, spec: null, stats: stats(0.05), calibrationMs: 1 }));
    // the disturbed copies of the first keys are 10× slower and come with a slow calibration: they
    // must move neither the LUT nor the reference calibration
    const badOps = units.slice(0, 5).map((key) => m(i++, { level: 'op', key, spec: null, stats: stats(0.5), calibrationMs: 5, quality: disturbed }));
    const nets = archs.map((arch, j) => m(i++, { key: arch, stats: stats(2 + j / 100), calibrationMs: 1, ...(j < 3 ? { quality: remeasured } : {}) }));
    const badNets = archs.slice(0, 4).map((arch) => m(i++, { key: arch, stats: stats(20), calibrationMs: 5, quality: disturbed }));
    await store.insertMeasurements([...ops, ...badOps, ...nets, ...badNets]);

    const data = (await trainingData(store, DEV, 'fbnet'));
    assert.deepEqual(data.dropped, { ops: 5, networks: 4 });
    assert.equal(data.networks.length, 30);
    assert.equal(data.networkMeasurements, 34);
    assert.ok(data.networks.every((n) => n.ms < 3), 'no disturbed network reached the training set');
    assert.equal(data.calibrationMs, 1, 'the reference calibration ignores disturbed measurements');
    assert.ok([...data.lutMs.values()].every((v) => Math.abs(v - 0.05) < 1e-9), 'no disturbed op reached the LUT');
    assert.equal(data.quality.verdict, 'unreliable');
    const lut = (await deviceLut(store, DEV, 'fbnet'));
    assert.equal(lut.calibrationMs, data.calibrationMs, "the LUT export's reference is the training data's");
    assert.equal(referenceCalibration((await store.listMeasurements({ deviceId: DEV }))), 1);
  });
});

test("the demo's note column names a noisy device and says why a device has no score", () => {
  const quality = summariseQuality(Array.from({ length: 10 }, (_, i) => m(i, { calibrationMs: 1 + i / 100, ...(i < 3 ? { quality: remeasured } : {}) })));
  assert.equal(demoNote({ error: null, quality, dropped: { ops: 0, networks: 0 } }), 'noisy: 30% of groups re-measured, cv 0.02');
  assert.equal(demoNote({ error: 'too little clean data: 8 of 40 networks usable', quality: null, dropped: null }), 'too little clean data: 8 of 40 networks usable');
  const clean = summariseQuality([m(1, {})]);
  assert.equal(demoNote({ error: null, quality: clean, dropped: { ops: 0, networks: 0 } }), '');
});

test('ContentionDetector: baselines from quiet rounds; a slow calibration, a starved CPU, a late timer each mark a round', async () => {
  const d = new ContentionDetector();
  d.startGroup();
  const quiet = { calibrationMs: 1, anchorMs: { fbnet: 2 }, slowdowns: [1, 1.01, 0.99], wallMs: 50, cpuMs: 49, timerLagMs: 1, stealFraction: 0 };
  for (let i = 0; i < 6; i++) assert.deepEqual(d.judge(quiet), { disturbed: false, reasons: [] });
  assert.deepEqual(d.judge({ ...quiet, calibrationMs: 1.5 }).reasons, ['calibration 1.50× its baseline']);
  assert.deepEqual(d.judge({ ...quiet, anchorMs: { fbnet: 3 } }).reasons, ['fbnet anchor 1.50× its baseline']);
  assert.deepEqual(d.judge({ ...quiet, cpuMs: 20 }).reasons, ['CPU share 0.40 of its usual 0.98']);
  assert.deepEqual(d.judge({ ...quiet, slowdowns: [1.4, 1.5, 1.6] }).reasons, [], 'three models say nothing about the group');
  assert.deepEqual(d.judge({ ...quiet, slowdowns: [1.6, 1.7, 1.6, 1.7, 1.6, 1.7] }).reasons, ['models 1.65× their medians']);
  assert.deepEqual(d.judge({ ...quiet, timerLagMs: 80 }).reasons, ['a timer fired 80 ms late']);
  assert.deepEqual(d.judge({ ...quiet, stealFraction: 0.3 }).reasons, ['30% CPU stolen']);
  assert.equal(d.judge(quiet).disturbed, false, 'a quiet round after disturbed ones is quiet');
  assert.deepEqual(d.evidence(), [
    'calibration 1.50× its baseline in 1 of 14 rounds',
    'anchor 1.50× its baseline in 1 of 14 rounds',
    'CPU share 0.41× of usual in 1 of 14 rounds',
    'models 1.65× their medians in 1 of 14 rounds',
    'timers up to 80 ms late in 1 of 14 rounds',
    'up to 30% CPU stolen in 1 of 14 rounds',
  ]);
  assert.equal(d.persistent, false, '6 disturbed rounds of 14 is not a persistently disturbed device');
  for (let i = 0; i < 30; i++) d.judge({ ...quiet, cpuMs: 10 });
  assert.equal(d.persistent, true, 'most of the last 40 rounds disturbed');
  d.startGroup();
  assert.deepEqual(d.evidence(), [], 'evidence is per group; baselines carry over');
  assert.throws(() => new ContentionDetector({ tolerance: -1 }), (e: Error) => e instanceof RangeError && /'tolerance'/.test(e.message));
});

test('threadWarning: more threads than free cores', async () => {
  assert.equal(threadWarning({ threads: 1, cores: 2, loadAverage: 0.2 }), null);
  assert.equal(threadWarning({ threads: 2, cores: 2, loadAverage: 0.1 }), null);
  assert.match(threadWarning({ threads: 2, cores: 2, loadAverage: 3.1 })!, /^2 threads but ~0 of 2 cores free \(load average 3.1\): ONNX Runtime's spinning threads collapse/);
  assert.match(threadWarning({ threads: 4, cores: 2, loadAverage: null })!, /^4 threads but ~2 of 2 cores free:/);
});
