// Replica-wide change events over a real PostgreSQL (LISTEN/NOTIFY): HWLAT_TEST_PG, or a throwaway
// cluster from tests/helpers/postgres.ts; without either the tests skip, saying why (CI=1 fails).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { DataVersions, PgNotifier, PgNotifierError, ReplicaAgents, type ChangeEvent } from '../../collector/events/index.ts';
import { freePort } from '../helpers/procs.ts';
import { testPostgres } from '../helpers/postgres.ts';

const pgt = await testPostgres();
const DEV = 'dev-0123456789ab';
const notifiers: PgNotifier[] = [];
after(async () => {
  await Promise.all(notifiers.map((n) => n.close()));
});

function notifier(url: string, origin: string, log?: (e: Record<string, unknown>) => void): PgNotifier {
  const n = new PgNotifier({ url, origin, reconnect: { baseMs: 50, capMs: 200 }, ...(log ? { log } : {}) });
  notifiers.push(n);
  return n;
}

async function until(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('PgNotifier on a real PostgreSQL', { skip: pgt.skip }, () => {
  it('every replica, the writer included, gets each change with the same version; later changes carry larger ones', async () => {
    const url = await pgt.createDatabase();
    const a = notifier(url, 'replica-a');
    const b = notifier(url, 'replica-b');
    await Promise.all([a.start(), b.start()]);
    const atA: ChangeEvent[] = [];
    const atB: ChangeEvent[] = [];
    a.subscribe((e) => atA.push(e));
    b.subscribe((e) => atB.push(e));
    const versionsB = new DataVersions(b);
    const v0 = versionsB.version(DEV);

    await a.publish([{ kind: 'measurements', deviceId: DEV }, { kind: 'jobs', deviceId: DEV }]);
    await until('both replicas heard a', () => atA.length === 2 && atB.length === 2);
    assert.deepEqual(atB.map((e) => [e.kind, e.deviceId, e.origin]), [['measurements', DEV, 'replica-a'], ['jobs', DEV, 'replica-a']]);
    assert.deepEqual(atA, atB, 'the same events on both replicas');
    const first = atB[0]?.version ?? 0;
    assert.ok(first > 0);
    assert.equal(atB[1]?.version, first, 'one batch, one version');
    // b's cache of the device now knows its data moved, though a wrote it
    assert.notEqual(versionsB.version(DEV), v0);
    assert.equal(versionsB.latest(DEV), first);

    await b.publish([{ kind: 'campaigns', deviceId: null, campaignId: 'camp-1' }]);
    await until('both replicas heard b', () => atA.length === 3 && atB.length === 3);
    assert.equal(atA[2]?.origin, 'replica-b');
    assert.equal(atA[2]?.campaignId, 'camp-1');
    assert.ok((atA[2]?.version ?? 0) > first, 'a later change, a larger version');
    versionsB.close();
  });

  it("a replica whose listening connection drops reconnects, says 'resync', and hears later changes", { timeout: 30_000 }, async () => {
    const url = await pgt.createDatabase();
    const logged: Array<Record<string, unknown>> = [];
    const a = notifier(url, 'replica-a');
    const b = notifier(url, 'replica-b', (e) => logged.push(e));
    await Promise.all([a.start(), b.start()]);
    const atB: ChangeEvent[] = [];
    b.subscribe((e) => atB.push(e));
    const versionsB = new DataVersions(b);
    const v0 = [versionsB.version(DEV), versionsB.version('dev-bbbbbbbbbbbb')];

    // the server ends b's listening session (a failover, a restart, an idle-session killer)
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      const killed = await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'hwlat-listen' AND query ILIKE 'LISTEN%'`);
      assert.ok(killed.rowCount !== null && killed.rowCount >= 1, 'a listening session was terminated');
    } finally {
      await admin.end();
    }
    await until('the resync', () => atB.some((e) => e.kind === 'resync'));
    assert.ok(logged.some((e) => e.event === 'notifier_disconnected'));
    assert.ok(logged.some((e) => e.event === 'notifier_reconnected'));
    // missed events are unknowable: every device's data version moved
    assert.notEqual(versionsB.version(DEV), v0[0]);
    assert.notEqual(versionsB.version('dev-bbbbbbbbbbbb'), v0[1]);

    await until('both listening', () => a.listening && b.listening);
    await a.publish([{ kind: 'measurements', deviceId: DEV }]);
    await until('the change after the reconnect', () => atB.some((e) => e.kind === 'measurements'));
    versionsB.close();
  });

  it('a notification that is not a change (another program on the channel) is ignored and logged', async () => {
    const url = await pgt.createDatabase();
    const logged: Array<Record<string, unknown>> = [];
    const b = notifier(url, 'replica-b', (e) => logged.push(e));
    await b.start();
    const atB: ChangeEvent[] = [];
    b.subscribe((e) => atB.push(e));
    const other = new pg.Client({ connectionString: url });
    await other.connect();
    try {
      await other.query(`SELECT pg_notify('hwlat_changes', 'not json'), pg_notify('hwlat_changes', '{"kind":"measurements"}')`);
    } finally {
      await other.end();
    }
    await until('two ignored', () => logged.filter((e) => e.event === 'notification_ignored').length === 2);
    assert.equal(atB.length, 0);
  });

  it('an unreachable server: start() says which database (no password) and why; publish never throws', async () => {
    const port = await freePort();
    const url = `postgres://hwlat:s3cret@127.0.0.1:${port}/hwlat`;
    const logged: Array<Record<string, unknown>> = [];
    const n = new PgNotifier({ url, connectTimeoutMs: 2000, log: (e) => logged.push(e) });
    await assert.rejects(n.start(), (e: unknown) => {
      assert.ok(e instanceof PgNotifierError);
      assert.match(e.message, new RegExp(`cannot listen for collector changes on postgres://hwlat:\\*\\*\\*@127\\.0\\.0\\.1:${port}/hwlat: .*ECONNREFUSED`));
      assert.doesNotMatch(e.message, /s3cret/);
      return true;
    });
    await n.publish([{ kind: 'measurements', deviceId: DEV }]);
    assert.equal(logged.filter((e) => e.event === 'notify_failed').length, 1);
    await n.close();
  });
});

describe('ReplicaAgents over a real PostgreSQL', { skip: pgt.skip }, () => {
  it("each replica counts the others' agents; a replica that stops says 0, one that dies drops out", { timeout: 30_000 }, async () => {
    const url = await pgt.createDatabase();
    const [a, b, c] = [notifier(url, 'replica-a'), notifier(url, 'replica-b'), notifier(url, 'replica-c')];
    await Promise.all([a.start(), b.start(), c.start()]);
    const local = { a: 1, b: 2, c: 4 };
    const o = { checkMs: 20, everyMs: 200, staleMs: 600 };
    const fa = new ReplicaAgents({ notifier: a, local: () => local.a, ...o });
    const fb = new ReplicaAgents({ notifier: b, local: () => local.b, ...o });
    const fc = new ReplicaAgents({ notifier: c, local: () => local.c, ...o });
    for (const f of [fa, fb, fc]) f.start();
    await until('every replica counts 7', () => fa.total() === 7 && fb.total() === 7 && fc.total() === 7);
    local.a = 3;
    await until('the change heard everywhere', () => fb.total() === 9 && fc.total() === 9);
    // b stops cleanly: its agents leave the others' totals at once
    await fb.close();
    await until('b said 0', () => fa.total() === 7 && fc.total() === 7);
    // c's connection to the database is gone without a word (its process died): after staleMs it no longer counts
    await c.close();
    await until('c dropped out', () => fa.total() === 3, 5000);
    assert.ok(!fa.replicas().some((r) => r.origin === 'replica-c'));
    await fa.close();
    await fc.close();
  });
});
