// A full disk under the collector's database (issue 16, defect 3). The database lives on a 3 MB
// tmpfs that the test fills; where mounting is not allowed (not root, a container without
// CAP_SYS_ADMIN) the same failure is injected into the store instead, and the test says so.
// Wanted: the collector answers a typed `store_unavailable` error carrying the result id and says
// it is unhealthy on /api/health; the real agent transport backs off and re-sends the result on
// the same socket; once the disk has room the result is stored once and its job done once.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { CollectorConnection, Outbox, type AgentEvent } from '../../agent/index.ts';
import { openStore, startCollector, StoreUnavailableError, type Collector, type SqliteStore, type Store } from '../../collector/index.ts';
import { PROTOCOL_VERSION, type Hello, type ResultMessage } from '../../protocol/index.ts';
import { createCampaign, GOOD_STATS, TEST_TOKEN, testDevice, waitUntil } from '../helpers/raw-agent.ts';

const root = mkdtempSync(join(tmpdir(), 'hwlat-full-'));
const dbDir = join(root, 'db');
mkdirSync(dbDir);
let mounted = false;
// HWLAT_TEST_NO_TMPFS=1 takes the injected path even where mounting works (to check that path)
if (process.env.HWLAT_TEST_NO_TMPFS !== '1') {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', dbDir], { stdio: 'ignore' });
    mounted = true;
  } catch {
    // fall back to an injected failure (below)
  }
}
const FILLER = join(dbDir, 'filler');
after(() => {
  if (mounted) execFileSync('umount', [dbDir], { stdio: 'ignore' });
  rmSync(root, { recursive: true, force: true });
});

/** The failure the injected store throws while `full` is set (only without a tmpfs). */
const injected: { full: boolean; only?: string } = { full: false };
const WRITES = new Set(['completeJob', 'completeJobs', 'leaseJobs', 'extendLeases', 'releaseLeases', 'failJob', 'upsertDevice', 'startPass', 'ensureJobsForDevice', 'createCampaign']);
function injecting(store: SqliteStore): Store {
  return new Proxy(store, {
    get(target, prop) {
      const v = (target as any)[prop];
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        if (injected.full && WRITES.has(String(prop)) && (injected.only === undefined || injected.only === prop)) {
          // as the real store fails: a rejected promise
          return Promise.reject(new StoreUnavailableError(target.path, String(prop), 'SQLITE_FULL', 'database or disk is full (injected)'));
        }
        return v.apply(target, args);
      };
    },
  }) as unknown as Store;
}

function fillDisk(dbFile: string): void {
  if (!mounted) {
    injected.full = true;
    return;
  }
  // empty the WAL first, so the next commit must grow it into space that is no longer there
  const side = new Database(dbFile);
  side.pragma('wal_checkpoint(TRUNCATE)');
  side.close();
  const fd = openSync(FILLER, 'w');
  for (const size of [64 * 1024, 512]) {
    const buf = Buffer.alloc(size, 7);
    try {
      for (;;) writeSync(fd, buf);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
    }
  }
  closeSync(fd);
}

function freeDisk(): void {
  injected.full = false;
  rmSync(FILLER, { force: true });
}

test(`a full disk: typed store_unavailable with the result id, unhealthy /api/health, the agent re-sends until stored once (${mounted ? '3 MB tmpfs' : 'injected store error: tmpfs not mountable here'})`, { timeout: 30_000 }, async (t) => {
  if (!mounted) t.diagnostic('tmpfs could not be mounted: the store failure is injected');
  const dbFile = join(dbDir, 'full.sqlite');
  const sqlite = openStore({ path: dbFile });
  const collectorLog: Array<Record<string, any>> = [];
  let collector: Collector | undefined;
  let conn: CollectorConnection | undefined;
  try {
    collector = await startCollector({ store: mounted ? sqlite : injecting(sqlite), token: TEST_TOKEN, port: 0, host: '127.0.0.1', leaseTtlMs: 60_000, log: (e) => collectorLog.push(e) });
    const deviceId = 'dev-f0110f0110f0';
    const passId = 'pass-full-000001';
    const hello: Hello = {
      type: 'hello', version: PROTOCOL_VERSION, token: TEST_TOKEN, agentId: 'agent-full-00001', device: testDevice(deviceId),
      pass: { id: passId, startedAt: new Date().toISOString(), calibrationKey: 'calib' },
    };
    const events: AgentEvent[] = [];
    const outbox = new Outbox(join(root, 'outbox'));
    conn = new CollectorConnection({ url: collector.wsUrl, hello, outbox, backoff: { baseMs: 100, capMs: 400 }, log: (e) => events.push(e) });
    conn.start();
    await conn.ready();
    await createCampaign(collector.url, { space: 'nasbench201', networks: 1, devices: [deviceId] });
    const lease = await conn.request({ type: 'lease_request', max: 1 }, 'lease', { timeoutMs: 5000 });
    const jobId = lease.jobs[0]!.id;

    fillDisk(dbFile);
    const result: ResultMessage = {
      type: 'result', resultId: 'result-full-00001', jobId, passId, stats: GOOD_STATS, batch: 1, warmup: 1, wallMs: 12, calibrationMs: 1, createdAt: new Date().toISOString(),
    };
    assert.equal(await conn.submit(result), true);
    // the refusal is typed, names the result and the message it answers, and says when to retry
    await waitUntil(() => events.some((e) => e.event === 'error' && e.code === 'store_unavailable'), 5000, 'a store_unavailable error');
    const refusal = events.find((e) => e.event === 'error')!;
    assert.equal(refusal.resultId, result.resultId);
    assert.equal(collectorLog.filter((e) => e.event === 'internal_error').length, 0);
    const health = await fetch(`${collector.url}/api/health`);
    assert.equal(health.status, 503);
    const body = (await health.json()) as any;
    assert.deepEqual([body.ok, body.store.writable, body.store.code], [false, false, 'SQLITE_FULL']);
    // the agent backs off and tries again on the same socket, more than once while the disk is full
    await waitUntil(() => events.filter((e) => e.event === 'result_retry').length >= 2, 10_000, 'two re-sends');
    const retries = events.filter((e) => e.event === 'result_retry');
    assert.ok((retries[1]!.attempt as number) > (retries[0]!.attempt as number));
    assert.equal((await store().getJob(jobId))?.status, 'leased');
    assert.equal(await store().countMeasurements(), 0);
    assert.equal((await outbox.list()).length, 1, 'the result waits in the outbox');

    freeDisk();
    await waitUntil(async () => (await outbox.list()).length === 0, 10_000, 'the result to be acked');
    assert.equal(conn.connectionCount, 1, 'no reconnect was needed');
    const done = await store().getJob(jobId);
    assert.deepEqual([done?.status, done?.resultId], ['done', result.resultId]);
    assert.equal(await store().countMeasurements(), 1);
    const healthy = await fetch(`${collector.url}/api/health`);
    assert.equal(healthy.status, 200);
    assert.deepEqual(((await healthy.json()) as any).store, { writable: true });
  } finally {
    await conn?.close();
    await collector?.close();
    await sqlite.close();
  }
  function store(): SqliteStore {
    return sqlite;
  }
});

test('a store failure answering a lease request rejects that request only, with a CollectorError naming store_unavailable', { timeout: 15_000 }, async () => {
  const sqlite = openStore({ path: join(root, 'inject.sqlite') });
  injected.full = false;
  const collector = await startCollector({ store: injecting(sqlite), token: TEST_TOKEN, port: 0, host: '127.0.0.1' });
  const hello: Hello = {
    type: 'hello', version: PROTOCOL_VERSION, token: TEST_TOKEN, agentId: 'agent-inject-0001', device: testDevice('dev-1a1a1a1a1a1a'),
    pass: { id: 'pass-inject-0001', startedAt: new Date().toISOString(), calibrationKey: 'calib' },
  };
  const conn = new CollectorConnection({ url: collector.wsUrl, hello, outbox: new Outbox(join(root, 'outbox-2')) });
  try {
    conn.start();
    await conn.ready();
    injected.full = true;
    await assert.rejects(conn.request({ type: 'lease_request', max: 1 }, 'lease', { timeoutMs: 5000 }), { name: 'CollectorError', code: 'store_unavailable' });
    injected.full = false;
    const lease = await conn.request({ type: 'lease_request', max: 1 }, 'lease', { timeoutMs: 5000 });
    assert.equal(lease.type, 'lease');
    // a heartbeat the store cannot record answers no request: the lease request sent right after it
    // gets its lease, not the heartbeat's error
    Object.assign(injected, { full: true, only: 'extendLeases' });
    assert.equal(conn.send({ type: 'heartbeat', leaseIds: [] }), true);
    const next = await conn.request({ type: 'lease_request', max: 1 }, 'lease', { timeoutMs: 5000 });
    assert.equal(next.type, 'lease');
  } finally {
    Object.assign(injected, { full: false, only: undefined });
    await conn.close();
    await collector.close();
    await sqlite.close();
  }
});
