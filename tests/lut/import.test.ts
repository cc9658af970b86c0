import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openStore } from '../../collector/index.ts';
import { LUT_FORMATS, LutEntryError, buildLut, lutToMeasurements, specsOfSpace } from '../../lut/index.ts';
import { getSpace, spaceUnits } from '../../ops-library/index.ts';
import { MeasurementSchema } from '../../protocol/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'hwlat-lut-import-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const DEV = 'dev-0123456789ab';
const YAML = `Conv-input:224x224x3-output:112x112x32: {count: 50, mean: 4.37, var: 0.04}
expanded_conv-input:112x112x16-output:56x56x24-expand:3-kernel:3-stride:2-idskip:0: {count: 50, mean: 6.1473, var: 0.0144}
Logits-input:7x7x1280-output:1000: {count: 0, mean: 0.21, var: 0}
not-a-proxyless-key: {count: 3, mean: 2, var: 1, median: 1.9, p10: 1.1, p90: 3}
`;

test('an imported LUT becomes valid op-level measurements with deterministic ids', async () => {
  const entries = LUT_FORMATS.proxyless.parse(YAML);
  const ms = lutToMeasurements(entries, { deviceId: DEV, passId: 'pass-imported-x', space: 'proxyless-mobile', specOf: specsOfSpace('proxyless-mobile'), createdAt: '2025-01-01T00:00:00.000Z' });
  assert.deepEqual(ms.map((m) => m.id), ['pass-imported-x:0', 'pass-imported-x:1', 'pass-imported-x:2', 'pass-imported-x:3']);
  for (const m of ms) MeasurementSchema.parse(m);
  const [conv, mb, logits, other] = ms as [typeof ms[0], typeof ms[0], typeof ms[0], typeof ms[0]];
  assert.deepEqual(conv.stats, { median: 4.37, mean: 4.37, p10: 4.37, p90: 4.37, stddev: 0.2, min: 4.37, cv: 0.2 / 4.37, repeats: 50, outliers: 0 });
  assert.equal(conv.level, 'op');
  assert.equal(conv.calibrationMs, null);
  assert.deepEqual(conv.spec, spaceUnits(getSpace('proxyless-mobile')).get(conv.key));
  assert.equal((mb.spec as { op: string }).op, 'expanded_conv');
  assert.equal(logits.stats.repeats, 1, 'count 0 still stands for one figure');
  assert.equal('spec' in other, false, 'a key outside the space has no spec');
  assert.deepEqual({ ...other.stats }, { median: 1.9, mean: 2, p10: 1.1, p90: 3, stddev: 1, min: 1.1, cv: 0.5, repeats: 3, outliers: 0 });

  assert.throws(
    () => lutToMeasurements(new Map([['k', { key: 'k', count: 1, mean: 1, var: -1 }]]), { deviceId: DEV, passId: 'p-12345678', space: null }),
    (e: Error) => e instanceof LutEntryError && /entry 'k': field 'var' must be a finite number >= 0, got -1/.test(e.message),
  );
  assert.throws(() => lutToMeasurements(new Map(), { deviceId: '', passId: 'p', space: null }), /'options.deviceId' must be a non-empty string/);
});

test('stored in a real SQLite file and built back, the LUT keeps its figures; re-importing is idempotent', async () => {
  const store = openStore({ path: join(dir, 'lut.sqlite') });
  try {
    (await store.upsertDevice({
      id: DEV, name: 'imported-test',
      hardware: { cpu: 'imported', cores: 0, memoryBytes: 0, os: 'imported', arch: 'unknown', gpus: [] },
      runtime: { backend: 'imported', provider: 'proxyless', version: 'lut', threads: 0 },
    }));
    const now = new Date().toISOString();
    await store.startPass({ id: 'pass-imported-x', deviceId: DEV, startedAt: now, finishedAt: now, calibrationKey: 'imported', calibrationMs: null, calibrationTrace: [] });
    const entries = LUT_FORMATS.proxyless.parse(YAML);
    const ms = lutToMeasurements(entries, { deviceId: DEV, passId: 'pass-imported-x', space: 'proxyless-mobile', specOf: specsOfSpace(getSpace('proxyless-mobile')) });
    assert.deepEqual((await store.insertMeasurements(ms)), { inserted: 4, duplicates: 0 });
    assert.deepEqual((await store.insertMeasurements(lutToMeasurements(entries, { deviceId: DEV, passId: 'pass-imported-x', space: 'proxyless-mobile' }))), { inserted: 0, duplicates: 4 });

    const lut = buildLut((await store.listMeasurements({ deviceId: DEV, level: 'op' })));
    assert.equal(lut.calibrationMs, null);
    assert.equal(lut.space, 'proxyless-mobile');
    assert.deepEqual([...lut.entries.keys()].sort(), [...entries.keys()].sort());
    for (const [key, e] of entries) {
      const got = lut.entries.get(key)!;
      assert.equal(got.mean, e.mean, key);
      assert.equal(got.count, Math.max(1, e.count), key);
      assert.ok(Math.abs(got.var - e.var) < 1e-15, `${key} var`);
      assert.deepEqual([got.median, got.p10, got.p90], [e.median, e.p10, e.p90], key);
    }
  } finally {
    await store.close();
  }
});
