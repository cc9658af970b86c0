import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import type { CampaignRequest, DeviceProfile, Job, JobTask, Measurement, Pass } from '../../protocol/index.ts';
import { MIGRATIONS, MigrationError, StoreOpenError, openStore, type SqliteStore } from '../../collector/index.ts';
import { migrate } from '../../collector/store/migrate.ts';
import { withStore, withTmp } from '../helpers/store.ts';
import { storeContract, type StoreDatabase } from './store-contract.ts';

// The Store contract on SQLite (a real file in a temp directory), then what only SQLite has:
// migrations of old files, WAL mode, file-system errors, two processes on one file.

/** A fresh SQLite file; every open() is a new connection to it. */
async function freshSqlite(): Promise<StoreDatabase> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hwlat-contract-'));
  const file = path.join(dir, 'hwlat.sqlite');
  return {
    open: async () => openStore({ path: file }),
    markSchemaNewer: async () => {
      const db = new Database(file);
      try {
        db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(MIGRATIONS.length + 1, 'from_the_future', new Date().toISOString());
      } finally {
        db.close();
      }
    },
    snapshot: async () => {
      // the bytes of the file and of its WAL sidecars: a refused open must not write any of them
      const names = fs.readdirSync(dir).sort();
      return names.map((n) => `${n}:${fs.readFileSync(path.join(dir, n)).toString('base64')}`).join('\n');
    },
    dispose: async () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

storeContract({ name: 'sqlite', fresh: freshSqlite });

const DEV = 'dev-0123456789ab';
const AGENT = 'agent-aaaa-0001';
const T0 = 1_750_000_000_000;
const TTL = 60_000;

function device(id = DEV, name = 'test-laptop'): DeviceProfile {
  return {
    id,
    name,
    hardware: { cpu: 'Intel(R) Xeon(R)', cores: 16, memoryBytes: 135e9, os: 'linux', arch: 'x64', gpus: [] },
    runtime: { backend: 'ort-node', provider: 'cpu', version: '1.30.0', threads: 1 },
  };
}

function pass(id = 'pass-1', deviceId = DEV): Pass {
  return { id, deviceId, startedAt: '2025-01-01T00:00:00.000Z', finishedAt: null, calibrationKey: 'calib', calibrationMs: null, calibrationTrace: [] };
}

function measurement(n: number): Measurement {
  return {
    id: `result-${String(n).padStart(4, '0')}`, deviceId: DEV, passId: 'pass-1', level: 'op', space: 'fbnet', key: `conv-k3-c${n}`,
    batch: 1, warmup: 3,
    stats: { median: 1, mean: 1, p10: 1, p90: 1, stddev: 0, min: 1, cv: 0, repeats: 10, outliers: 0 },
    wallMs: 40, calibrationMs: 2.5, createdAt: `2025-01-01T00:00:${String(n).padStart(2, '0')}.000Z`,
  };
}

async function seeded(store: SqliteStore): Promise<void> {
  await store.upsertDevice(device());
  await store.startPass(pass());
}

function opTask(n: number): JobTask {
  return { level: 'op', space: 'fbnet', key: `conv-k3-c${n}`, spec: { op: 'conv', cin: n, cout: n, kernel: 3, stride: 1, hw: [28, 28] } };
}

const TASKS: JobTask[] = [opTask(16), opTask(32), { level: 'network', space: 'fbnet', key: 'k3_e1-k5_e3' }];

function request(): CampaignRequest {
  return { space: 'fbnet', ops: true, networks: 1, seed: 0, devices: 'all', settings: { batch: 1, warmup: 3, minRepeats: 10, minTimeMs: 200 } };
}

function resultFor(job: Job, deviceId: string, resultId: string): Measurement {
  const t = job.task;
  return {
    id: resultId, deviceId, passId: `pass-${deviceId}`, level: t.level, space: t.space, key: t.key, spec: t.level === 'op' ? t.spec : null,
    batch: 1, warmup: 3, stats: { median: 1.25, mean: 1.25, p10: 1.25, p90: 1.25, stddev: 0, min: 1.25, cv: 0, repeats: 10, outliers: 0 },
    wallMs: 40, calibrationMs: 2.5, createdAt: '2025-01-01T00:01:00.000Z', jobId: job.id,
  };
}

function lease(store: SqliteStore, max: number, now = T0) {
  return store.leaseJobs({ deviceId: DEV, agentId: AGENT, max, ttlMs: TTL, now });
}

test('reopening keeps the data and applies only migrations not yet applied', async () => {
  await withTmp(async (dir) => {
    const file = path.join(dir, 'hwlat.sqlite');
    const all = MIGRATIONS.map((m) => m.version);
    const last = MIGRATIONS.length;
    const first = openStore({ path: file });
    assert.deepEqual(first.migrationsApplied, all);
    await seeded(first);
    await first.insertMeasurements([measurement(1), measurement(2)]);
    const appliedAt = first.appliedMigrations();
    const data = (await first.listMeasurements());
    await first.close();

    const second = openStore({ path: file });
    assert.deepEqual(second.migrationsApplied, []);
    assert.deepEqual(second.appliedMigrations(), appliedAt);
    assert.equal(second.schemaVersion(), last);
    assert.deepEqual((await second.listMeasurements()), data);
    assert.deepEqual((await second.getDevice(DEV)), device());
    await second.close();

    // a later issue appends a migration: only it runs, and earlier data survives
    const next = last + 1;
    const plusNotes = [...MIGRATIONS, { version: next, name: 'notes', up: 'CREATE TABLE notes (id TEXT PRIMARY KEY, body TEXT NOT NULL) STRICT;' }];
    const third = openStore({ path: file, migrations: plusNotes });
    assert.deepEqual(third.migrationsApplied, [next]);
    assert.deepEqual(
      third.appliedMigrations().map((m) => [m.version, m.name]),
      [...MIGRATIONS.map((m) => [m.version, m.name]), [next, 'notes']],
    );
    assert.equal((await third.countMeasurements()), 2);
    await third.close();

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
    await fourth.close();

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

test('a version-1 database upgrades to campaigns, jobs and anchors with its measurements intact', async () => {
  await withTmp(async (dir) => {
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
    const back = (await upgraded.listMeasurements());
    assert.deepEqual(back.map((m) => [m.id, m.key, m.stats.repeats]), [['result-0001', 'k1', 10]]);
    assert.equal('jobId' in back[0]!, false);
    assert.equal('spec' in back[0]!, false);
    // nor an anchorMs: the old row has none
    assert.equal('anchorMs' in back[0]!, false);
    assert.deepEqual((await upgraded.listCampaigns()), []);
    assert.equal((await upgraded.countJobs()), 0);
    await upgraded.close();
  });
});

test('the database runs in WAL mode', async () => {
  await withStore(async (store, file) => {
    assert.equal(store.journalMode(), 'wal');
    await seeded(store);
    await store.insertMeasurements([measurement(1)]);
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

test('an unusable path throws an error naming the path and the reason', async () => {
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
  await withTmp(async (dir) => {
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

test('migration 3 upgrades a version-2 database: jobs keep their state and start with no failures', async () => {
  await withTmp(async (dir) => {
    const file = path.join(dir, 'hwlat.sqlite');
    // a file as the version-2 code left it (its statements read columns v2 lacks, so write rows in SQL)
    const v2 = new Database(file);
    assert.deepEqual(migrate(v2, MIGRATIONS.slice(0, 2), file), [1, 2]);
    const d = device(DEV, DEV);
    const ts = '2025-01-01T00:00:00.000Z';
    v2.prepare('INSERT INTO devices VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').run(
      DEV, d.name, JSON.stringify(d.hardware), JSON.stringify(d.runtime), 'ort-node', 'cpu', '1.30.0', 1, ts, ts,
    );
    v2.prepare('INSERT INTO passes (id, device_id, started_at, calibration_key) VALUES (?, ?, ?, ?)').run(`pass-${DEV}`, DEV, ts, 'calib-fbnet');
    v2.prepare('INSERT INTO campaigns VALUES (?, ?, ?, 1, ?)').run('camp-1', ts, JSON.stringify(request()), TASKS.length);
    TASKS.forEach((t, idx) => {
      v2.prepare('INSERT INTO campaign_tasks VALUES (?, ?, ?, ?, ?, ?)').run('camp-1', idx, t.level, t.space, t.key, JSON.stringify(t));
    });
    const jobId = (idx: number) => `camp-1:${DEV}:${idx}`;
    const insertJob = v2.prepare(
      `INSERT INTO jobs (id, campaign_id, task_idx, device_id, status, lease_id, lease_owner, lease_expires_at, attempts, created_at)
       VALUES (?, 'camp-1', ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    insertJob.run(jobId(0), 0, DEV, 'leased', 'lease-old', AGENT, T0 + TTL, 1, ts);
    insertJob.run(jobId(1), 1, DEV, 'leased', 'lease-old', AGENT, T0 + TTL, 1, ts);
    insertJob.run(jobId(2), 2, DEV, 'queued', null, null, null, 0, ts);
    // job 0 is done: its measurement names it, then it names its measurement
    const m = resultFor({ id: jobId(0), campaignId: 'camp-1', task: TASKS[0]!, settings: request().settings }, DEV, 'result-v2-00001');
    v2.prepare(
      `INSERT INTO measurements (id, device_id, pass_id, level, space, key, spec, batch, warmup, median_ms, mean_ms, p10_ms, p90_ms,
         stddev_ms, min_ms, cv, repeats, outliers, wall_ms, calibration_ms, created_at, job_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, 1, 3, 1.25, 1.25, 1.25, 1.25, 0, 1.25, 0, 10, 0, 40, 2.5, ?, ?)`,
    ).run(m.id, DEV, m.passId, m.level, m.space, m.key, JSON.stringify(m.spec), m.createdAt, jobId(0));
    v2.prepare(
      `UPDATE jobs SET status = 'done', result_id = ?, done_at = ?, lease_id = NULL, lease_owner = NULL, lease_expires_at = NULL WHERE id = ?`,
    ).run(m.id, T0 + 5, jobId(0));
    v2.close();

    const upgraded = openStore({ path: file });
    try {
      // migration 3, and the later ones (4: anchor_ms, 5: measurement_quality, 6: kernel_profiles) on top
      assert.deepEqual(upgraded.migrationsApplied, [3, 4, 5, 6]);
      assert.equal(upgraded.schemaVersion(), 6);
      assert.deepEqual(upgraded.appliedMigrations().slice(-4).map((m) => m.name), ['job_failures', 'anchor_ms', 'measurement_quality', 'kernel_profiles']);
      assert.deepEqual(
        (await upgraded.listJobs()).map((j) => [j.id, j.status, j.attempts, j.leaseOwner, j.resultId, j.failures, j.lastError]),
        [
          [jobId(0), 'done', 1, null, 'result-v2-00001', 0, null],
          [jobId(1), 'leased', 1, AGENT, null, 0, null],
          [jobId(2), 'queued', 0, null, null, 0, null],
        ],
      );
      assert.deepEqual((await upgraded.listMeasurements()), [m]);
      assert.deepEqual((await upgraded.campaignProgress('camp-1', T0 + 1)), [{ deviceId: DEV, total: 3, queued: 1, leased: 1, done: 1, failed: 0 }]);
      // the old lease is usable with the new column
      assert.deepEqual((await upgraded.failJob({ jobId: jobId(1), deviceId: DEV, agentId: AGENT, error: 'after the upgrade' })), { failures: 1, gaveUp: false });
      assert.deepEqual((await lease(upgraded, 10, T0 + 2)).jobs.map((j) => j.id), [jobId(1), jobId(2)]);
    } finally {
      await upgraded.close();
    }
    // the new column has its CHECK, like every counter of the schema
    const raw = new Database(file);
    try {
      assert.throws(() => raw.prepare('UPDATE jobs SET failures = -1 WHERE id = ?').run(jobId(2)), /CHECK constraint failed/);
    } finally {
      raw.close();
    }
  });
});

/** The script each leasing process runs: lease one job at a time until none is left, print the ids. */
const LEASER = `
import { createInterface } from 'node:readline';
import { openStore } from ${JSON.stringify(new URL('../../collector/index.ts', import.meta.url).pathname)};
const [file, agentId] = process.argv.slice(2);
const store = openStore({ path: file, busyTimeoutMs: 20000 });
console.log('ready');
await new Promise((r) => createInterface({ input: process.stdin }).once('line', r));
const got = [];
for (;;) {
  const g = await store.leaseJobs({ deviceId: ${JSON.stringify(DEV)}, agentId, max: 1, ttlMs: 600000, now: ${T0} });
  if (g.jobs.length === 0) break;
  got.push(g.jobs[0].id);
  // a breath between leases, so the two processes' transactions interleave instead of one taking all
  await new Promise((r) => setTimeout(r, 1));
}
await store.close();
console.log(JSON.stringify(got));
process.exit(0);
`;

test('two processes leasing from one file at once never get the same job', async () => {
  await withTmp(async (dir) => {
    const file = path.join(dir, 'hwlat.sqlite');
    const n = 300;
    const store = openStore({ path: file });
    await store.upsertDevice(device());
    await store.startPass(pass());
    await store.createCampaign({ id: 'camp-1', createdAt: '2025-01-01T00:00:00.000Z', request: request(), tasks: Array.from({ length: n }, (_, i) => opTask(i + 1)) });
    assert.equal(await store.ensureJobsForDevice(DEV), 0); // createCampaign made them
    await store.close();
    const script = path.join(dir, 'leaser.mts');
    fs.writeFileSync(script, LEASER);
    const procs = ['agent-proc-0001', 'agent-proc-0002'].map((agent) => {
      const child = spawn(process.execPath, ['--import', 'tsx', script, file, agent], { stdio: ['pipe', 'pipe', 'inherit'] });
      const lines = createInterface({ input: child.stdout! });
      const out: string[] = [];
      lines.on('line', (l) => out.push(l));
      const ready = new Promise<void>((resolve, reject) => {
        lines.on('line', (l) => l === 'ready' && resolve());
        child.once('exit', (code) => reject(new Error(`leaser exited (${code}) before it was ready`)));
      });
      const done = new Promise<string[]>((resolve, reject) =>
        child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out[out.length - 1] ?? '[]') as string[]) : reject(new Error(`leaser exited ${code}`)))),
      );
      return { child, ready, done };
    });
    try {
      await Promise.all(procs.map((p) => p.ready));
      for (const p of procs) p.child.stdin!.write('go\n'); // both start leasing at once
      const [a, b] = await Promise.all(procs.map((p) => p.done));
      assert.equal(new Set([...a!, ...b!]).size, a!.length + b!.length, 'a job was leased to both processes');
      assert.equal(a!.length + b!.length, n);
      // both really took part (each got a share while the other was leasing)
      assert.ok(a!.length > 0 && b!.length > 0, `${a!.length} / ${b!.length}`);
      const check = openStore({ path: file });
      try {
        assert.equal(await check.countJobs({ status: 'leased' }), n);
        for (const id of a!.slice(0, 20)) assert.equal((await check.getJob(id))!.leaseOwner, 'agent-proc-0001');
      } finally {
        await check.close();
      }
    } finally {
      for (const p of procs) if (p.child.exitCode === null) p.child.kill();
    }
  });
});
