import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ANCHOR_NETWORKS, anchorArch, anchorModel, CALIBRATION_KEY, createBackend, networkItems, opItems, profileItems } from '../../agent/index.ts';
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
      // a network measurement carries its group's anchor figure; an op one (even in a group with
      // a network: group 2) none
      if (m.level === 'network') assert.ok((m.anchorMs ?? 0) > 0, `network ${i} has an anchorMs`);
      else assert.equal('anchorMs' in m, false);
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
    // no contention check: on a busy test machine discarded rounds would lengthen the traces
    const base = { backend, deviceId: 'dev-000000000000', passId: 'pass-test', warmup: 0, minRepeats: 5, minTimeMs: 0, detector: null };
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

test('anchors: every entry is an architecture of its space, and a group\'s anchor figure is the anchor network\'s latency', async () => {
  for (const [name, arch] of Object.entries(ANCHOR_NETWORKS)) {
    const space = getSpace(name);
    assert.equal(space.format(space.parse(arch)), arch, `${name}'s anchor is canonical`);
  }
  assert.ok(Object.isFrozen(ANCHOR_NETWORKS));
  assert.equal(anchorArch('resnet18'), null);
  assert.equal(anchorModel('resnet18', 1), null);
  const backend = await createBackend('ort-node', { threads: 1 });
  try {
    const space = getSpace('nasbench201');
    const opts = { backend, deviceId: 'dev-000000000000', passId: 'pass-test', warmup: 1, minRepeats: 6, minTimeMs: 0 };
    const archs = sampleArchs(space, { count: 2, seed: 9 });
    const withAnchor = await profileItems(networkItems(space, archs), opts);
    const anchor = withAnchor.measurements[0]!.anchorMs as number;
    assert.equal(withAnchor.measurements[1]!.anchorMs, anchor, 'one group, one anchor figure');
    // the anchor measured as an ordinary network item, without anchors
    const alone = await profileItems(networkItems(space, [anchorArch('nasbench201')!]), { ...opts, anchors: false });
    assert.equal('anchorMs' in alone.measurements[0]!, false);
    const ratio = anchor / alone.measurements[0]!.stats.median;
    assert.ok(ratio > 1 / 3 && ratio < 3, `anchor figure ${anchor} ms vs ${alone.measurements[0]!.stats.median} ms measured alone`);
  } finally {
    await backend.dispose();
  }
});
