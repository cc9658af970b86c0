import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { DeviceProfile, Measurement, Pass } from '../../protocol/index.ts';
import {
  MIGRATIONS,
  MigrationError,
  StoreClosedError,
  StoreConflictError,
  StoreNotFoundError,
  StoreOpenError,
  StoreReferenceError,
  StoreValidationError,
  openStore,
  type SqliteStore,
} from '../../collector/index.ts';
import { migrate } from '../../collector/store/migrate.ts';
import { withStore as storeIn, withTmp as tmpDir } from '../helpers/store.ts';

const withTmp = (fn: (dir: string) => void) => tmpDir(fn, 'hwlat-store-');
const withStore = (fn: (store: SqliteStore, file: string) => void) => storeIn(fn, 'hwlat-store-');

const DEV = 'dev-0123456789ab';
const DEV2 = 'dev-ba9876543210';

function device(id = DEV, name = 'test-laptop'): DeviceProfile {
  return {
    id,
    name,
    hardware: {
      cpu: 'Intel(R) Xeon(R) @ 2.20GHz',
      cores: 16,
      physicalCores: 8,
      memoryBytes: 135_000_000_000,
      os: 'linux 6.1',
      arch: 'x64',
      gpus: [{ vendor: 'NVIDIA', model: 'H100', vramMb: 81_559 }],
      host: 'box-1',
    },
    runtime: { backend: 'ort-node', provider: 'cpu', version: '1.30.0', threads: 1 },
  };
}

function pass(id = 'pass-1', deviceId = DEV): Pass {
  return {
    id,
    deviceId,
    startedAt: '2025-01-01T00:00:00.000Z',
    finishedAt: null,
    calibrationKey: 'conv3x3-c32-hw56',
    calibrationMs: null,
    calibrationTrace: [],
  };
}

function measurement(n: number, overrides: Partial<Measurement> = {}): Measurement {
  return {
    id: `result-${String(n).padStart(4, '0')}`,
    deviceId: DEV,
    passId: 'pass-1',
    level: 'op',
    space: 'proxyless-mobile',
    key: `expanded_conv-input:56x56x24-output:56x56x24-expand:${n}-kernel:3-stride:1-idskip:1`,
    spec: { op: 'mbconv', cin: 24, cout: 24, expand: n, kernel: 3, stride: 1, hw: [56, 56], se: false },
    batch: 1,
    warmup: 10,
    stats: {
      median: 0.1 + 0.2 * n, // deliberately not representable exactly: REAL must round-trip bits
      mean: 1.2345678901234567,
      p10: 0.05,
      p90: 170,
      stddev: 0.0123,
      min: 0.04,
      cv: 0.0123 / 1.2345678901234567,
      repeats: 47,
      outliers: 3,
    },
    wallMs: 812.5,
    calibrationMs: 3.25,
    createdAt: `2025-01-01T00:00:${String(n).padStart(2, '0')}.000Z`,
    ...overrides,
  };
}

/** A store holding one device and one pass, ready for measurements. */
function seeded(store: SqliteStore): void {
  store.upsertDevice(device());
  store.startPass(pass());
}

test('device, pass and measurements round-trip with every field intact', () => {
  withStore((store) => {
    seeded(store);
    assert.deepEqual(store.getDevice(DEV), device());
    assert.equal(store.getDevice('dev-000000000000'), undefined);
    assert.deepEqual(store.getPass('pass-1'), pass());
    assert.equal(store.getPass('nope'), undefined);

    const ms = [
      measurement(1),
      // a network measurement: no search space, no spec at all, no calibration
      measurement(2, { level: 'network', space: null, key: 'mbv2-full', spec: undefined, calibrationMs: null }),
      // spec sent as explicit null must come back as null, not vanish
      measurement(3, { spec: null, batch: 8, warmup: 0 }),
      // a network measurement with its group's anchor figure
      measurement(4, { level: 'network', space: 'nasbench201', key: 'arch-4', spec: null, anchorMs: 0.1 + 0.7 }),
    ];
    delete ms[1]!.spec;
    assert.deepEqual(store.insertMeasurements(ms), { inserted: 4, duplicates: 0 });
    const back = store.listMeasurements();
    assert.deepEqual(back, ms);
    assert.equal('spec' in back[1]!, false);
    assert.equal(back[2]!.spec, null);
    assert.equal(back[0]!.stats.median, 0.1 + 0.2 * 1);
    assert.equal('anchorMs' in back[0]!, false);
    assert.equal(back[3]!.anchorMs, 0.1 + 0.7);

    store.finishPass('pass-1', { finishedAt: '2025-01-01T00:10:00.000Z', calibrationMs: 3.25, calibrationTrace: [3.1, 3.3, 3.25] });
    assert.deepEqual(store.getPass('pass-1'), {
      ...pass(),
      finishedAt: '2025-01-01T00:10:00.000Z',
      calibrationMs: 3.25,
      calibrationTrace: [3.1, 3.3, 3.25],
    });

    assert.deepEqual(store.listDevices(), [{ ...device(), measurements: 4 }]);
  });
});

test('filters select by device, level, space (including no space), key and limit; count agrees', () => {
  withStore((store) => {
    seeded(store);
    store.upsertDevice(device(DEV2, 'other'));
    store.startPass(pass('pass-2', DEV2));
    store.insertMeasurements([
      measurement(5),
      measurement(4),
      measurement(3, { level: 'network', space: null, key: 'net-a' }),
      measurement(2, { deviceId: DEV2, passId: 'pass-2' }),
      measurement(1, { deviceId: DEV2, passId: 'pass-2', space: 'fbnet' }),
    ]);
    const ids = (ms: Measurement[]) => ms.map((m) => m.id);
    // ordered by createdAt, not by insertion order
    assert.deepEqual(ids(store.listMeasurements()), ['result-0001', 'result-0002', 'result-0003', 'result-0004', 'result-0005']);
    assert.deepEqual(ids(store.listMeasurements({ deviceId: DEV })), ['result-0003', 'result-0004', 'result-0005']);
    assert.deepEqual(ids(store.listMeasurements({ deviceId: DEV, level: 'op' })), ['result-0004', 'result-0005']);
    assert.deepEqual(ids(store.listMeasurements({ space: null })), ['result-0003']);
    assert.deepEqual(ids(store.listMeasurements({ space: 'fbnet' })), ['result-0001']);
    assert.deepEqual(ids(store.listMeasurements({ key: 'net-a' })), ['result-0003']);
    assert.deepEqual(ids(store.listMeasurements({ deviceId: DEV, limit: 2 })), ['result-0003', 'result-0004']);
    assert.equal(store.countMeasurements(), 5);
    assert.equal(store.countMeasurements({ deviceId: DEV2 }), 2);
    assert.equal(store.countMeasurements({ deviceId: DEV, level: 'op', space: 'proxyless-mobile' }), 2);
    assert.equal(store.countMeasurements({ limit: 4 }), 4);
    assert.equal(store.countMeasurements({ deviceId: 'dev-000000000000' }), 0);
    assert.deepEqual(
      store.listDevices().map((d) => [d.id, d.measurements]),
      [[DEV, 3], [DEV2, 2]],
    );

    // a typo must not silently select everything
    assert.throws(() => store.listMeasurements({ device: DEV } as never), (err: Error) => {
      assert.ok(err instanceof TypeError);
      assert.match(err.message, /filter/);
      assert.match(err.message, /device/);
      return true;
    });
    assert.throws(() => store.countMeasurements({ limit: 0 }), /invalid filter\.limit/);
    assert.throws(() => store.listMeasurements({ level: 'kernel' as never }), /invalid filter\.level/);
  });
});

test('re-sent results are ignored by id and counted as duplicates', () => {
  withStore((store) => {
    seeded(store);
    assert.deepEqual(store.insertMeasurements([measurement(1), measurement(2), measurement(3)]), { inserted: 3, duplicates: 0 });
    // 2 already stored, 1 repeated within the batch, 2 new
    const again = [measurement(2, { stats: { ...measurement(2).stats, median: 99 } }), measurement(3), measurement(4), measurement(4), measurement(5)];
    assert.deepEqual(store.insertMeasurements(again), { inserted: 2, duplicates: 3 });
    assert.equal(store.countMeasurements(), 5);
    // the first copy stored (the one acknowledged) wins
    assert.equal(store.listMeasurements().find((m) => m.id === 'result-0002')!.stats.median, measurement(2).stats.median);
    assert.deepEqual(store.insertMeasurements([]), { inserted: 0, duplicates: 0 });
  });
});

test('a schema-violating measurement rejects the whole batch and keeps prior data', () => {
  withStore((store) => {
    seeded(store);
    store.insertMeasurements([measurement(1), measurement(2)]);
    const before = store.listMeasurements();

    const bad = [measurement(3), measurement(4, { stats: { ...measurement(4).stats, median: -1 } }), measurement(5)];
    assert.throws(() => store.insertMeasurements(bad), (err: Error) => {
      assert.ok(err instanceof TypeError);
      assert.ok(err instanceof StoreValidationError);
      assert.equal(err.argument, 'measurements[1].stats.median');
      assert.match(err.message, /measurements\[1\]\.stats\.median/);
      return true;
    });
    const missing = [measurement(6), { ...measurement(7), level: 'layer' } as unknown as Measurement];
    assert.throws(() => store.insertMeasurements(missing), /measurements\[1\]\.level/);
    const notJson = [measurement(8, { spec: { size: 10n } })];
    assert.throws(() => store.insertMeasurements(notJson), /measurements\[0\]\.spec: not JSON-serialisable/);
    assert.throws(() => store.insertMeasurements('nope' as never), /invalid measurements: must be an array/);
    assert.throws(() => store.insertMeasurements([measurement(9, { level: 'network', anchorMs: 0 })]), /measurements\[0\]\.anchorMs/);

    assert.equal(store.countMeasurements(), 2);
    assert.deepEqual(store.listMeasurements(), before);
  });
});

test('unknown device or pass is a clear reference error and writes nothing', () => {
  withStore((store) => {
    seeded(store);
    store.insertMeasurements([measurement(1)]);
    store.upsertDevice(device(DEV2, 'other'));
    store.startPass(pass('pass-2', DEV2));

    assert.throws(
      () => store.insertMeasurements([measurement(2), measurement(3, { deviceId: 'dev-ffffffffffff' })]),
      (err: Error) => {
        assert.ok(err instanceof StoreReferenceError);
        assert.match(err.message, /measurements\[1\]\.deviceId: unknown device 'dev-ffffffffffff'/);
        return true;
      },
    );
    assert.throws(
      () => store.insertMeasurements([measurement(2, { passId: 'pass-404' })]),
      /measurements\[0\]\.passId: unknown pass 'pass-404'/,
    );
    // the calibration of another device's pass would normalise this measurement wrongly
    assert.throws(
      () => store.insertMeasurements([measurement(2, { passId: 'pass-2' })]),
      /measurements\[0\]\.passId: pass 'pass-2' belongs to device 'dev-ba9876543210', not 'dev-0123456789ab'/,
    );
    assert.throws(() => store.startPass(pass('pass-3', 'dev-ffffffffffff')), /pass\.deviceId: unknown device 'dev-ffffffffffff'/);
    assert.equal(store.getPass('pass-3'), undefined);
    assert.equal(store.countMeasurements(), 1);
  });
});

test('passes: re-start is idempotent, a different pass under the same id conflicts, unknown finish throws', () => {
  withStore((store) => {
    seeded(store);
    store.startPass(pass()); // re-sent after a reconnect
    assert.throws(() => store.startPass({ ...pass(), calibrationKey: 'other' }), (err: Error) => {
      assert.ok(err instanceof StoreConflictError);
      assert.match(err.message, /pass 'pass-1' already exists: stored calibrationKey/);
      return true;
    });
    assert.throws(
      () => store.finishPass('pass-9', { finishedAt: '2025-01-01T01:00:00.000Z', calibrationMs: 1, calibrationTrace: [1] }),
      (err: Error) => err instanceof StoreNotFoundError && /finishPass: unknown pass 'pass-9'/.test(err.message),
    );
    assert.throws(
      () => store.finishPass('pass-1', { finishedAt: '2025-01-01T01:00:00.000Z', calibrationMs: 0, calibrationTrace: [] }),
      /invalid finish\.calibrationMs/,
    );
    assert.throws(() => store.startPass({ ...pass(), calibrationTrace: [1, -2] }), /invalid pass\.calibrationTrace\[1\]/);
  });
});

test('upsertDevice updates a device in place and validates the profile', () => {
  withStore((store) => {
    seeded(store);
    store.insertMeasurements([measurement(1)]);
    const renamed = { ...device(), name: 'renamed', runtime: { ...device().runtime, threads: 4 } };
    store.upsertDevice(renamed);
    assert.deepEqual(store.getDevice(DEV), renamed);
    assert.deepEqual(store.listDevices(), [{ ...renamed, measurements: 1 }]);
    assert.throws(() => store.upsertDevice({ ...device(), id: 'laptop' }), /invalid profile\.id/);
    assert.throws(
      () => store.upsertDevice({ ...device(), runtime: { ...device().runtime, threads: -1 } }),
      /invalid profile\.runtime\.threads/,
    );
  });
});

test('reopening keeps the data and applies only migrations not yet applied', () => {
  withTmp((dir) => {
    const file = path.join(dir, 'hwlat.sqlite');
    const all = MIGRATIONS.map((m) => m.version);
    const last = MIGRATIONS.length;
    const first = openStore({ path: file });
    assert.deepEqual(first.migrationsApplied, all);
    seeded(first);
    first.insertMeasurements([measurement(1), measurement(2)]);
    const appliedAt = first.appliedMigrations();
    const data = first.listMeasurements();
    first.close();

    const second = openStore({ path: file });
    assert.deepEqual(second.migrationsApplied, []);
    assert.deepEqual(second.appliedMigrations(), appliedAt);
    assert.equal(second.schemaVersion(), last);
    assert.deepEqual(second.listMeasurements(), data);
    assert.deepEqual(second.getDevice(DEV), device());
    second.close();

    // a later issue appends a migration: only it runs, and earlier data survives
    const next = last + 1;
    const plusNotes = [...MIGRATIONS, { version: next, name: 'notes', up: 'CREATE TABLE notes (id TEXT PRIMARY KEY, body TEXT NOT NULL) STRICT;' }];
    const third = openStore({ path: file, migrations: plusNotes });
    assert.deepEqual(third.migrationsApplied, [next]);
    assert.deepEqual(
      third.appliedMigrations().map((m) => [m.version, m.name]),
      [...MIGRATIONS.map((m) => [m.version, m.name]), [next, 'notes']],
    );
    assert.equal(third.countMeasurements(), 2);
    third.close();

    // a failing migration is rolled back whole and named in the error
    const broken = [
      ...plusNotes,
      { version: next + 1, name: 'broken', up: 'CREATE TABLE half (x INTEGER) STRICT; CREATE TABLE notes (id TEXT);' },
    ];
    assert.throws(() => openStore({ path: file, migrations: broken }), (err: Error) => {
      assert.ok(err instanceof MigrationError);
      assert.match(err.message, new RegExp(`migration ${next + 1} 'broken' failed: .*notes already exists`));
      return true;
    });
    const fixed = [...plusNotes, { version: next + 1, name: 'broken', up: 'CREATE TABLE half (x INTEGER) STRICT;' }];
    const fourth = openStore({ path: file, migrations: fixed });
    assert.deepEqual(fourth.migrationsApplied, [next + 1]); // 'half' was not left behind by the failed try
    fourth.close();

    // code that knows fewer migrations than the file has applied refuses it rather than guessing
    assert.throws(
      () => openStore({ path: file }),
      new RegExp(`schema version ${next} \\('notes'\\) is newer than this code, which knows up to ${last}`),
    );
    assert.throws(
      () => openStore({ path: file, migrations: [...MIGRATIONS, { version: next, name: 'renamed', up: 'SELECT 1' }, fixed[next]!] }),
      new RegExp(`migration ${next} was applied as 'notes' but the code calls it 'renamed'`),
    );
    assert.throws(
      () => openStore({ path: file, migrations: [{ version: 2, name: 'x', up: 'SELECT 1' }] }),
      /migrations\[0\]\.version must be 1/,
    );
  });
});

test('a version-1 database upgrades to campaigns, jobs and anchors with its measurements intact', () => {
  withTmp((dir) => {
    const file = path.join(dir, 'hwlat.sqlite');
    // a file as the version-1 code left it (that code's statements are gone, so write its rows in SQL)
    const v1 = new Database(file);
    assert.deepEqual(migrate(v1, MIGRATIONS.slice(0, 1), file), [1]);
    v1.prepare(
      `INSERT INTO devices VALUES ('${DEV}', 'old', '{}', '{}', 'ort-node', 'cpu', '1.30.0', 1, '2025-01-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z')`,
    ).run();
    v1.prepare(`INSERT INTO passes (id, device_id, started_at, calibration_key) VALUES ('pass-1', '${DEV}', '2025-01-01T00:00:00.000Z', 'c')`).run();
    v1.prepare(
      `INSERT INTO measurements VALUES ('result-0001', '${DEV}', 'pass-1', 'op', 'fbnet', 'k1', NULL, 1, 3, 1, 1, 1, 1, 0, 1, 0, 10, 0, 50, NULL,
        '2025-01-01T00:00:01.000Z')`,
    ).run();
    v1.close();

    const upgraded = openStore({ path: file });
    assert.deepEqual(upgraded.migrationsApplied, [2, 3, 4, 5, 6]);
    assert.deepEqual(upgraded.appliedMigrations().map((m) => m.name), ['devices_passes_measurements', 'campaigns_jobs', 'job_failures', 'anchor_ms', 'measurement_quality', 'kernel_profiles']);
    // a measurement of no job still reads back without a jobId (or spec) key
    const back = upgraded.listMeasurements();
    assert.deepEqual(back.map((m) => [m.id, m.key, m.stats.repeats]), [['result-0001', 'k1', 10]]);
    assert.equal('jobId' in back[0]!, false);
    assert.equal('spec' in back[0]!, false);
    // nor an anchorMs: the old row has none
    assert.equal('anchorMs' in back[0]!, false);
    assert.deepEqual(upgraded.listCampaigns(), []);
    assert.equal(upgraded.countJobs(), 0);
    upgraded.close();
  });
});

test('the database runs in WAL mode', () => {
  withStore((store, file) => {
    assert.equal(store.journalMode(), 'wal');
    seeded(store);
    store.insertMeasurements([measurement(1)]);
    // independent of the store's own report: bytes 18 and 19 of the SQLite header are 2 in WAL mode
    const header = Buffer.alloc(20);
    const fd = fs.openSync(file, 'r');
    try {
      fs.readSync(fd, header, 0, 20, 0);
    } finally {
      fs.closeSync(fd);
    }
    assert.equal(header.subarray(0, 16).toString('latin1'), 'SQLite format 3\0');
    assert.equal(header[18], 2);
    assert.equal(header[19], 2);
    assert.ok(fs.existsSync(`${file}-wal`));
  });
});

test('an unusable path throws an error naming the path and the reason', () => {
  const expectOpenError = (p: string, reason: RegExp) =>
    assert.throws(() => openStore({ path: p }), (err: Error) => {
      assert.ok(err instanceof StoreOpenError, `${p}: ${err.name}: ${err.message}`);
      assert.ok(err.message.includes(`cannot open database '${p}'`), err.message);
      assert.match(err.message, reason);
      return true;
    });

  expectOpenError('/proc/nonexistent/x.sqlite', /directory '\/proc\/nonexistent' does not exist/);
  // /proc exists but no file can be created in it (even as root)
  expectOpenError('/proc/hwlat-x.sqlite', /cannot open database '\/proc\/hwlat-x\.sqlite': .+/);
  withTmp((dir) => {
    expectOpenError(path.join(dir, 'missing', 'x.sqlite'), /does not exist/);
    const plain = path.join(dir, 'plain.txt');
    fs.writeFileSync(plain, 'not a directory');
    expectOpenError(path.join(plain, 'x.sqlite'), /not a directory/);
    expectOpenError(dir, /is a directory/);
    const junk = path.join(dir, 'junk.sqlite');
    fs.writeFileSync(junk, 'definitely not an SQLite database '.repeat(64));
    expectOpenError(junk, /file is not a database/);
    assert.equal(fs.readFileSync(junk, 'utf8'), 'definitely not an SQLite database '.repeat(64));
    if (process.getuid?.() !== 0) {
      // permission bits do not bind root, so this case is only meaningful for other users
      const locked = path.join(dir, 'locked');
      fs.mkdirSync(locked, { mode: 0o500 });
      expectOpenError(path.join(locked, 'x.sqlite'), /not writable/);
    }
  });
  assert.throws(() => openStore({ path: '' }), /invalid openStore options\.path/);
});

test('a closed store refuses further calls; close is idempotent', () => {
  withStore((store) => {
    seeded(store);
    store.close();
    store.close();
    assert.throws(() => store.countMeasurements(), (err: Error) => {
      assert.ok(err instanceof StoreClosedError);
      assert.match(err.message, /countMeasurements: store '.*hwlat\.sqlite' is closed/);
      return true;
    });
  });
});
