import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import pg from 'pg';
import {
  MigrationError,
  PG_MIGRATIONS,
  StoreOpenError,
  StoreUnavailableError,
  StoreValidationError,
  openPostgresStore,
  openStoreAt,
  type PostgresStore,
  type Store,
} from '../../collector/index.ts';
import { checkServerVersion, parsePostgresUrl } from '../../collector/store/postgres/connect.ts';
import type { JobTask, Measurement } from '../../protocol/index.ts';
import { testPostgres } from '../helpers/postgres.ts';
import { DEV, device, measurement, pass } from '../helpers/store-fixture.ts';
import { storeContract, type StoreDatabase } from './store-contract.ts';

// The PostgreSQL store beyond the contract every store meets (tests/collector/store-contract.ts):
// what only a server has — a URL, a connection that can fail, a schema shared by replicas, and
// two processes' pools leasing and completing the same jobs at once.

const pgt = await testPostgres();

/** A fresh database on the test server; every open() is another store with its own pool. */
async function freshPostgres(): Promise<StoreDatabase> {
  const url = await pgt.createDatabase();
  return {
    open: () => openPostgresStore({ url, poolSize: 4 }),
    markSchemaNewer: async () => {
      await sql(url, 'INSERT INTO schema_version (version, name, applied_at) VALUES ($1, $2, $3)', [PG_MIGRATIONS.length + 1, 'from_the_future', new Date().toISOString()]);
    },
    snapshot: async () => {
      // every row of every table, the schema's own bookkeeping included, as JSON text
      const tables = await sql<{ t: string }>(url, "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY 1");
      const parts: string[] = [];
      for (const { t } of tables) {
        const rows = await sql<{ rows: unknown }>(url, `SELECT json_agg(x ORDER BY x::text)::text AS rows FROM "${t}" x`);
        parts.push(`${t}: ${String(rows[0]!.rows)}`);
      }
      return parts.join('\n');
    },
    // the test process drops its databases when it exits (tests/helpers/postgres.ts)
    dispose: async () => {},
  };
}

storeContract({ name: 'postgres', fresh: freshPostgres, skip: pgt.skip ?? null });

/** A query on `url` outside any store (to look at or tamper with what the store wrote). */
async function sql<R extends pg.QueryResultRow = pg.QueryResultRow>(url: string, text: string, params: unknown[] = []): Promise<R[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<R>(text, params)).rows;
  } finally {
    await c.end();
  }
}

describe('PostgreSQL store: URLs, servers and schemas', { skip: pgt.skip }, () => {
  it('a bad --db URL is a StoreValidationError that says what is missing', async () => {
    const cases: [string, RegExp][] = [
      ['postgres://hwlat@127.0.0.1:5432', /names no database .*postgres:\/\/USER\[:PASSWORD\]@HOST\[:PORT\]\/DATABASE/],
      ['postgres:///hwlat', /names no host/],
      ['postgresql://u:secret@127.0.0.1:99999/db', /is not a valid URL/],
      ['postgres://u@127.0.0.1/db?connect_timeout=soon', /connect_timeout: must be a positive number of seconds, got 'soon'/],
      ['mysql://u@127.0.0.1/db', /is a mysql:\/\/ URL; a database is a SQLite file path or a postgres:\/\//],
      ['postgress://u@127.0.0.1/db', /is a postgress:\/\/ URL/],
    ];
    for (const [url, message] of cases) {
      await assert.rejects(openStoreAt(url), (err: Error) => {
        assert.ok(err instanceof StoreValidationError, `${url}: ${err.name}: ${err.message}`);
        assert.match(err.message, message);
        assert.doesNotMatch(err.message, /secret/, 'a password never appears in a message');
        return true;
      });
    }
  });

  it('an unreachable server names host:port: refused at once, silent until the connect timeout', async () => {
    // a port nobody listens on
    const free = net.createServer();
    await new Promise<void>((r) => free.listen(0, '127.0.0.1', r));
    const closedPort = (free.address() as net.AddressInfo).port;
    await new Promise<void>((r) => free.close(() => r()));
    await assert.rejects(openStoreAt(`postgres://u:secret@127.0.0.1:${closedPort}/hwlat`), (err: Error) => {
      assert.ok(err instanceof StoreOpenError);
      assert.match(err.message, new RegExp(`cannot open database 'postgres://u:\\*\\*\\*@127\\.0\\.0\\.1:${closedPort}/hwlat': no PostgreSQL server answers at 127\\.0\\.0\\.1:${closedPort} \\(connection refused\\)`));
      return true;
    });

    // a server that accepts the connection and never says a word
    const sockets: net.Socket[] = [];
    const mute = net.createServer((s) => sockets.push(s));
    await new Promise<void>((r) => mute.listen(0, '127.0.0.1', r));
    const port = (mute.address() as net.AddressInfo).port;
    try {
      const t0 = performance.now();
      await assert.rejects(openStoreAt(`postgres://u@127.0.0.1:${port}/hwlat?connect_timeout=0.4`), (err: Error) => {
        assert.ok(err instanceof StoreOpenError, err.message);
        assert.match(err.message, new RegExp(`no answer from 127\\.0\\.0\\.1:${port} within 400 ms \\(connect timeout`));
        return true;
      });
      assert.ok(performance.now() - t0 < 5000, 'the timeout is the one asked for');
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => mute.close(() => r()));
    }
  });

  it('a missing database is named, with how to create it; a server older than 12 is refused', async () => {
    const url = new URL(pgt.serverUrl);
    url.pathname = '/hwlat_no_such_db';
    await assert.rejects(openStoreAt(url.toString()), /database 'hwlat_no_such_db' does not exist on 127\.0\.0\.1:\d+; create it first \(createdb hwlat_no_such_db\)/);
    // the version check itself (this machine has no PostgreSQL 11 to connect to)
    const loc = parsePostgresUrl('postgres://u@db.example:5433/hwlat');
    assert.throws(() => checkServerVersion(loc, 110022, '11.22'), /the server at db\.example:5433 runs PostgreSQL 11\.22; hwlat needs PostgreSQL 12 or newer/);
    assert.doesNotThrow(() => checkServerVersion(loc, 120000, '12.0'));
  });

  it('migrates once; two replicas opening a fresh database together both succeed', async () => {
    const url = await pgt.createDatabase();
    const [a, b] = await Promise.all([openPostgresStore({ url }), openPostgresStore({ url })]);
    try {
      assert.deepEqual([...a.migrationsApplied, ...b.migrationsApplied], [1], 'one of them applied version 1, the other found it applied');
      assert.equal(await a.schemaVersion(), 1);
      const rows = await sql<{ version: number; name: string }>(url, 'SELECT version, name FROM schema_version');
      assert.deepEqual(rows, [{ version: 1, name: 'schema_as_sqlite_v6' }]);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('a schema written by newer hwlat is refused with MigrationError, and nothing is changed', async () => {
    const url = await pgt.createDatabase();
    const s = await openPostgresStore({ url });
    await s.upsertDevice(device(DEV));
    await s.close();
    await sql(url, "INSERT INTO schema_version VALUES (2, 'from_the_future', '2030-01-01T00:00:00.000Z')");
    const tablesBefore = await sql(url, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1");
    await assert.rejects(openStoreAt(url), (err: Error) => {
      assert.ok(err instanceof MigrationError);
      assert.match(err.message, /schema version 2 \('from_the_future'\) is newer than this code, which knows up to 1; upgrade hwlat \(nothing was changed\)/);
      return true;
    });
    assert.deepEqual(await sql(url, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1"), tablesBefore);
    assert.equal((await sql(url, 'SELECT COUNT(*)::int AS n FROM devices'))[0]!.n, 1);
    assert.equal((await sql(url, 'SELECT COUNT(*)::int AS n FROM schema_version'))[0]!.n, 2);

    // a renamed migration is refused the same way
    await sql(url, "DELETE FROM schema_version WHERE version = 2; UPDATE schema_version SET name = 'renamed' WHERE version = 1");
    await assert.rejects(openStoreAt(url), /migration 1 was applied as 'renamed' but the code calls it 'schema_as_sqlite_v6'/);
  });

  it('a connection killed in the middle of a call is StoreUnavailableError, nothing is written, and the next call works', async () => {
    const url = await pgt.createDatabase();
    const s = await openPostgresStore({ url, poolSize: 1 });
    const blocker = new pg.Client({ connectionString: url });
    await blocker.connect();
    try {
      await s.upsertDevice(device(DEV));
      // another session holds the device row, so startPass waits inside its transaction …
      await blocker.query('BEGIN');
      await blocker.query('SELECT 1 FROM devices WHERE id = $1 FOR UPDATE', [DEV]);
      // settled into a value at once: it fails while this test is still busy killing its connection
      const call = s.startPass(pass(DEV)).then(
        () => assert.fail('startPass succeeded on a killed connection'),
        (err: unknown) => err,
      );
      const waiting = async (): Promise<number | undefined> =>
        (await sql<{ pid: number }>(url, "SELECT pid FROM pg_stat_activity WHERE application_name = 'hwlat' AND wait_event_type = 'Lock'"))[0]?.pid;
      let pid: number | undefined;
      for (let i = 0; i < 100 && pid === undefined; i++) pid = await waiting();
      assert.ok(pid !== undefined, 'the store is waiting on the lock');
      // … when the server ends its connection (an admin, a failover, a restart)
      await sql(url, 'SELECT pg_terminate_backend($1)', [pid]);
      const err = (await call) as Error;
      assert.ok(err instanceof StoreUnavailableError, `${err.name}: ${err.message}`);
      assert.match(err.message, /startPass: store 'postgres:\/\/.*' is unavailable \(57P01: terminating connection .*\); nothing was written, try again later/);
      await blocker.query('ROLLBACK');
      assert.equal(await s.getPass(pass(DEV).id), undefined, 'the interrupted call wrote nothing');
      await s.startPass(pass(DEV));
      assert.deepEqual(await s.getPass(pass(DEV).id), pass(DEV));
    } finally {
      await blocker.end();
      await s.close();
    }
  });
});

const task = (n: number): JobTask => ({ level: 'op', space: 'fbnet', key: `conv-k3-c${n}`, spec: { op: 'conv', cin: n, cout: n, kernel: 3, stride: 1, hw: [28, 28] } });

describe('PostgreSQL store: two processes\' pools on one database', { skip: pgt.skip }, () => {
  const stores: PostgresStore[] = [];
  after(async () => {
    for (const s of stores) await s.close();
  });

  it('lease every job exactly once and store exactly one result per job, racing from two pools', async () => {
    const url = await pgt.createDatabase();
    const a = await openPostgresStore({ url, poolSize: 4 });
    const b = await openPostgresStore({ url, poolSize: 4 });
    stores.push(a, b);
    const JOBS = 300;
    await a.upsertDevice(device(DEV));
    await a.startPass(pass(DEV));
    await b.createCampaign({
      id: 'race',
      createdAt: '2025-01-01T00:00:00.000Z',
      request: { space: 'fbnet', ops: true, networks: 0, seed: 0, devices: 'all', settings: { batch: 1, warmup: 3, minRepeats: 10, minTimeMs: 200 } },
      tasks: Array.from({ length: JOBS }, (_, i) => task(i)),
    });

    // eight agents, four on each replica, lease small batches as fast as they can
    const leasedBy = new Map<string, string>();
    const duplicates: string[] = [];
    const agent = async (store: Store, agentId: string): Promise<void> => {
      for (;;) {
        const g = await store.leaseJobs({ deviceId: DEV, agentId, max: 7, ttlMs: 600_000, now: 1_750_000_000_000 });
        if (g.jobs.length === 0) return;
        for (const j of g.jobs) {
          if (leasedBy.has(j.id)) duplicates.push(j.id);
          leasedBy.set(j.id, agentId);
        }
      }
    };
    await Promise.all([0, 1, 2, 3].flatMap((i) => [agent(a, `agent-a${i}`), agent(b, `agent-b${i}`)]));
    assert.deepEqual(duplicates, [], 'no job leased twice');
    assert.equal(leasedBy.size, JOBS, 'every job leased');
    assert.equal(await a.countJobs({ status: 'leased' }), JOBS);

    // every result is sent to both replicas at once (an agent failing over and re-sending), and a
    // second agent's result for the same job races too: one is stored, every other is a duplicate
    const result = (jobId: string, n: number, copy: string): Measurement =>
      measurement(n, { id: `result-${copy}-${jobId}`, key: `conv-k3-c${n}`, createdAt: '2025-01-01T00:00:01.000Z' });
    const outcomes = await Promise.all(
      [...leasedBy.keys()].flatMap((jobId) => {
        const n = Number(jobId.split(':').at(-1));
        const first = result(jobId, n, 'x');
        return [
          a.completeJob({ jobId, deviceId: DEV, measurement: first }),
          b.completeJob({ jobId, deviceId: DEV, measurement: first }),
          b.completeJob({ jobId, deviceId: DEV, measurement: result(jobId, n, 'y') }),
        ];
      }),
    );
    assert.equal(outcomes.filter((o) => o === 'stored').length, JOBS);
    assert.equal(outcomes.filter((o) => o === 'duplicate').length, 2 * JOBS);
    assert.equal(await b.countJobs({ status: 'done' }), JOBS);
    assert.equal(await a.countMeasurements(), JOBS, 'exactly one measurement per job');
    const jobs = await a.listJobs();
    const measured = new Set((await b.listMeasurements()).map((m) => m.id));
    assert.ok(jobs.every((j) => j.resultId !== null && measured.has(j.resultId)), 'each done job names its stored result');
    assert.deepEqual(await a.campaignProgress('race'), [{ deviceId: DEV, total: JOBS, queued: 0, leased: 0, done: JOBS, failed: 0 }]);
  });

  it('devices registering on one replica while another creates an all-device campaign all get its jobs', async () => {
    const url = await pgt.createDatabase();
    const a = await openPostgresStore({ url, poolSize: 8 });
    const b = await openPostgresStore({ url, poolSize: 8 });
    stores.push(a, b);
    const ids = Array.from({ length: 16 }, (_, i) => `dev-${String(i).padStart(12, '0')}`);
    const TASKS = 2000;
    // hellos (upsert, then ensure jobs) on replica a, one every few ms, while replica b creates a
    // campaign big enough that its transaction is open a while: devices arrive before it, during
    // it (seen by neither side without a lock between the two) and after it
    await Promise.all([
      ...ids.map(async (id, i) => {
        await new Promise((r) => setTimeout(r, i * 15));
        await a.upsertDevice(device(id));
        // the same device's hello reaching both replicas at once (an agent failing over): each
        // job is created once, by one of them
        await Promise.all([a.ensureJobsForDevice(id), b.ensureJobsForDevice(id)]);
      }),
      b.createCampaign({
        id: 'late',
        createdAt: '2025-01-01T00:00:00.000Z',
        request: { space: 'fbnet', ops: true, networks: 0, seed: 0, devices: 'all', settings: { batch: 1, warmup: 3, minRepeats: 10, minTimeMs: 200 } },
        tasks: Array.from({ length: TASKS }, (_, i) => task(i)),
      }),
    ]);
    const progress = await a.campaignProgress('late');
    assert.deepEqual(progress.map((p) => p.deviceId).sort(), [...ids].sort(), 'every device has the campaign');
    assert.ok(progress.every((p) => p.total === TASKS));
    assert.equal(await a.countJobs({ campaignId: 'late' }), ids.length * TASKS, 'no job twice');
  });

  it('an expired lease goes back to the queue once, whichever replica expires it', async () => {
    const url = await pgt.createDatabase();
    const a = await openPostgresStore({ url });
    const b = await openPostgresStore({ url });
    stores.push(a, b);
    await a.upsertDevice(device(DEV));
    await a.createCampaign({
      id: 'exp',
      createdAt: '2025-01-01T00:00:00.000Z',
      request: { space: 'fbnet', ops: true, networks: 0, seed: 0, devices: 'all', settings: { batch: 1, warmup: 3, minRepeats: 10, minTimeMs: 200 } },
      tasks: Array.from({ length: 40 }, (_, i) => task(i)),
    });
    const T = 1_750_000_000_000;
    const first = await a.leaseJobs({ deviceId: DEV, agentId: 'dead-agent', max: 40, ttlMs: 1000, now: T });
    assert.equal(first.jobs.length, 40);
    // after the lease ran out, both replicas expire and re-lease at once
    const [expiredA, expiredB] = await Promise.all([a.expireLeases(T + 1000), b.expireLeases(T + 1000)]);
    assert.equal(expiredA + expiredB, 40, 'each expired lease counted once');
    const [ga, gb] = await Promise.all([
      a.leaseJobs({ deviceId: DEV, agentId: 'agent-a', max: 40, ttlMs: 1000, now: T + 1001 }),
      b.leaseJobs({ deviceId: DEV, agentId: 'agent-b', max: 40, ttlMs: 1000, now: T + 1001 }),
    ]);
    const ids = [...ga.jobs, ...gb.jobs].map((j) => j.id);
    assert.equal(ids.length, 40);
    assert.equal(new Set(ids).size, 40);
    assert.ok((await a.listJobs()).every((j) => j.attempts === 2));
  });
});
