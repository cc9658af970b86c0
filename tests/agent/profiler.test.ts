import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CALIBRATION_KEY, createBackend, networkItems, opItems, profileItems } from '../../agent/index.ts';
import { getSpace, sampleArchs, spaceUnits } from '../../ops-library/index.ts';
import { MeasurementSchema, type Measurement } from '../../protocol/index.ts';

test('profileItems measures ops and networks in interleaved groups, each carrying its calibration', async () => {
  const backend = await createBackend('ort-node', { threads: 1 });
  try {
    const space = getSpace('nasbench201');
    const items = [
      ...opItems(space.name, [...spaceUnits(space)].slice(0, 3)),
      ...networkItems(space, sampleArchs(space, { count: 2, seed: 4 })),
    ];
    const groups: Measurement[][] = [];
    const progress: number[] = [];
    const res = await profileItems(items, {
      backend,
      deviceId: 'dev-000000000000',
      passId: 'pass-test',
      groupSize: 2,
      warmup: 1,
      minRepeats: 4,
      minTimeMs: 0,
      onProgress: (done) => progress.push(done),
      onMeasurements: (ms) => {
        groups.push(ms);
      },
    });
    assert.deepEqual(groups.map((g) => g.length), [2, 2, 1]);
    assert.equal(res.measurements.length, 5);
    assert.equal(progress.at(-1), 5);
    assert.equal(new Set(res.measurements.map((m) => m.id)).size, 5, 'result ids are unique');
    res.measurements.forEach((m, i) => {
      MeasurementSchema.parse(m);
      assert.equal(m.key, items[i]?.key);
      assert.equal(m.level, i < 3 ? 'op' : 'network');
      assert.ok(m.stats.repeats + m.stats.outliers >= 4);
      assert.ok((m.calibrationMs ?? 0) > 0);
    });
    assert.ok(res.calibrationTrace.length >= 3 * 4, 'one calibration run per round of each group');
    assert.ok((res.calibrationMs ?? 0) > 0);
    assert.match(CALIBRATION_KEY, /^network:fbnet:k3_e1-k3_e1-/);
  } finally {
    await backend.dispose();
  }
});

test('profileItems rejects a bad group size', async () => {
  const backend = await createBackend('ort-node', { threads: 1 });
  try {
    await assert.rejects(profileItems([], { backend, deviceId: 'd', passId: 'p', groupSize: 0 }), /'groupSize' must be an integer >= 1, got 0/);
  } finally {
    await backend.dispose();
  }
});

test('profileItems re-measures models whose runs scattered beyond maxCv', async () => {
  const backend = await createBackend('ort-node', { threads: 1 });
  try {
    const space = getSpace('nasbench201');
    const items = opItems(space.name, [...spaceUnits(space)].slice(0, 2));
    const base = { backend, deviceId: 'dev-000000000000', passId: 'pass-test', warmup: 0, minRepeats: 5, minTimeMs: 0 };
    const calm = await profileItems(items, { ...base, maxCv: Infinity });
    // maxCv 0 counts every model as noisy: each is measured once more per retry
    const strict = await profileItems(items, { ...base, maxCv: 0, noisyRetries: 2 });
    assert.equal(calm.calibrationTrace.length, 5);
    assert.equal(strict.calibrationTrace.length, 15);
    assert.equal(strict.measurements.length, 2);
  } finally {
    await backend.dispose();
  }
});
