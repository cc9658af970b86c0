// The collector's change events without PostgreSQL: the in-process notifier, what each store write
// announces (through a real SQLite store), and the per-device data versions caches read.
// tests/collector/events-postgres.test.ts runs the LISTEN/NOTIFY notifier on a real server.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openStore } from '../../collector/index.ts';
import {
  ChangePublisher, changesOf, DataVersions, InProcessNotifier, notifierFor, PgNotifier, ReplicaAgents,
  type ChangeEvent,
} from '../../collector/events/index.ts';
import type { Measurement } from '../../protocol/index.ts';
import { testDevice } from '../helpers/raw-agent.ts';

const dir = mkdtempSync(join(tmpdir(), 'hwlat-events-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const DEV = 'dev-0123456789ab';
function measurement(n: number, deviceId = DEV): Measurement {
  return {
    id: `result-${deviceId}-${n}`, deviceId, passId: `pass-${deviceId}`, level: 'op', space: 'proxyless-mobile',
    key: `expanded_conv-input:56x56x24-output:56x56x24-expand:${n}-kernel:3-stride:1-idskip:1`,
    spec: { op: 'mbconv', cin: 24, cout: 24, expand: n, kernel: 3, stride: 1, hw: [56, 56], se: false },
    batch: 1, warmup: 10,
    stats: { median: 1, mean: 1, p10: 0.9, p90: 1.1, stddev: 0.1, min: 0.9, cv: 0.1, repeats: 10, outliers: 0 },
    wallMs: 10, calibrationMs: 1, createdAt: `2025-01-01T00:00:${String(n).padStart(2, '0')}.000Z`,
  };
}

test('in-process notifier: each batch one version, counting up; a throwing listener does not stop the others', async () => {
  const logged: Array<Record<string, unknown>> = [];
  const n = new InProcessNotifier({ origin: 'here', log: (e) => logged.push(e) });
  await n.start();
  const seen: ChangeEvent[] = [];
  n.subscribe(() => {
    throw new Error('listener bug');
  });
  const off = n.subscribe((e) => seen.push(e));
  await n.publish([{ kind: 'measurements', deviceId: DEV }, { kind: 'jobs', deviceId: DEV }]);
  await n.publish([{ kind: 'campaigns', deviceId: null, campaignId: 'camp-1' }]);
  assert.deepEqual(seen.map((e) => [e.kind, e.deviceId, e.version, e.origin]), [
    ['measurements', DEV, 1, 'here'],
    ['jobs', DEV, 1, 'here'],
    ['campaigns', null, 2, 'here'],
  ]);
  assert.equal(seen[2]?.campaignId, 'camp-1');
  assert.equal(logged.filter((e) => e.event === 'change_listener_error').length, 3);
  off();
  await n.publish([{ kind: 'devices', deviceId: DEV }]);
  assert.equal(seen.length, 3, 'unsubscribed');
  await n.close();
});

test('changesOf: what each write announces, nothing for reads, duplicates or empty results', () => {
  const input = { jobId: 'j', deviceId: DEV, measurement: measurement(1) };
  assert.deepEqual(changesOf('completeJob', [input], 'stored').map((c) => c.kind), ['measurements', 'jobs']);
  assert.deepEqual(changesOf('completeJob', [{ ...input, kernels: { kernels: [] } }], 'requeued').map((c) => c.kind), ['measurements', 'jobs', 'kernels']);
  assert.deepEqual(changesOf('completeJob', [input], 'duplicate'), []);
  assert.deepEqual(changesOf('insertMeasurements', [[measurement(1), measurement(2, 'dev-bbbbbbbbbbbb')]], { inserted: 2, duplicates: 0 }), [
    { kind: 'measurements', deviceId: DEV },
    { kind: 'measurements', deviceId: 'dev-bbbbbbbbbbbb' },
  ]);
  assert.deepEqual(changesOf('insertMeasurements', [[measurement(1)]], { inserted: 0, duplicates: 1 }), []);
  assert.deepEqual(changesOf('leaseJobs', [{ deviceId: DEV }], { leaseId: null, jobs: [], expiresAt: null }), []);
  assert.deepEqual(changesOf('leaseJobs', [{ deviceId: DEV }], { leaseId: 'l', jobs: [{}], expiresAt: 1 }), [{ kind: 'jobs', deviceId: DEV }]);
  assert.deepEqual(changesOf('releaseLeases', [{ agentId: 'a' }], 0), []);
  assert.deepEqual(changesOf('createCampaign', [{}], { id: 'camp-1' }), [{ kind: 'campaigns', deviceId: null, campaignId: 'camp-1' }, { kind: 'jobs', deviceId: null }]);
  assert.deepEqual(changesOf('listMeasurements', [{}], []), []);
  assert.deepEqual(changesOf('toString', [], ''), []);
});

test('a wrapped SQLite store announces its committed writes, coalesced, and nothing for a refused one', { timeout: 20_000 }, async () => {
  const notifier = new InProcessNotifier({ origin: 'replica-a' });
  const seen: ChangeEvent[] = [];
  notifier.subscribe((e) => seen.push(e));
  const publisher = new ChangePublisher(notifier, { coalesceMs: 300 });
  const raw = await openStore({ path: join(dir, 'wrapped.sqlite') });
  const store = publisher.wrap(raw);
  try {
    await store.upsertDevice(testDevice(DEV));
    await store.startPass({ id: `pass-${DEV}`, deviceId: DEV, startedAt: '2025-01-01T00:00:00.000Z', finishedAt: null, calibrationKey: 'calib', calibrationMs: null, calibrationTrace: [] });
    await store.insertMeasurements([measurement(1)]);
    await store.insertMeasurements([measurement(2)]);
    // coalesced: nothing yet, then one batch with each (kind, device) once
    assert.equal(seen.length, 0);
    await waitFor('the batch', () => seen.length > 0);
    assert.deepEqual(seen.map((e) => [e.kind, e.deviceId]), [['devices', DEV], ['measurements', DEV]]);
    assert.equal(new Set(seen.map((e) => e.version)).size, 1);
    // a refused write (an unknown pass) throws as before and announces nothing
    await assert.rejects(async () => store.insertMeasurements([{ ...measurement(3), passId: 'pass-unknown' }]), /pass/);
    // a duplicate writes nothing and announces nothing
    await store.insertMeasurements([measurement(1)]);
    await publisher.flush();
    assert.equal(seen.length, 2);
    // reads pass through, bound to the store
    assert.equal(await store.countMeasurements({ deviceId: DEV }), 2);
    assert.equal((await store.listDevices())[0]?.id, DEV);
  } finally {
    await store.close();
  }
});

test('data versions: a device moves when its data changes (any replica), not for other devices or kinds; resync moves all', async () => {
  const notifier = new InProcessNotifier();
  const versions = new DataVersions(notifier);
  const other = 'dev-bbbbbbbbbbbb';
  const v0 = versions.version(DEV);
  await notifier.publish([{ kind: 'measurements', deviceId: DEV }]);
  const v1 = versions.version(DEV);
  assert.notEqual(v1, v0);
  assert.equal(versions.version(other), 0);
  assert.equal(versions.version(DEV, 'kernels'), 0);
  assert.equal(versions.latest(DEV), 1);
  await notifier.publish([{ kind: 'jobs', deviceId: DEV }, { kind: 'campaigns', deviceId: null, campaignId: 'c' }]);
  assert.equal(versions.version(DEV), v1, 'job states are not data');
  await notifier.publish([{ kind: 'kernels', deviceId: DEV }]);
  assert.equal(versions.version(DEV, 'kernels'), 1);
  // a resync (missed events): every device's version moves
  versions.close();
  await notifier.publish([{ kind: 'measurements', deviceId: DEV }]);
  assert.equal(versions.version(DEV), v1, 'closed: no longer following');

  // a resync (PgNotifier after its listening connection came back): every device's version moves
  let feed: ((e: ChangeEvent) => void) | null = null;
  const fed = new DataVersions({ subscribe: (l) => ((feed = l), () => (feed = null)) });
  const at = () => [fed.version(DEV), fed.version(other), fed.version(DEV, 'kernels')];
  const before = at();
  (feed as unknown as (e: ChangeEvent) => void)({ kind: 'resync', deviceId: null, version: 0, origin: 'x', at: new Date().toISOString() });
  const afterResync = at();
  for (let i = 0; i < 3; i++) assert.notEqual(afterResync[i], before[i]);
  fed.close();
  assert.equal(feed, null);
});

test('notifierFor: the store kind picks the notifier; bad values are named', async () => {
  assert.equal(notifierFor(join(dir, 'x.sqlite')).kind, 'in-process');
  const pg = notifierFor('postgres://hwlat:secret@127.0.0.1:5432/hwlat');
  assert.ok(pg instanceof PgNotifier);
  assert.equal(pg.kind, 'postgres');
  assert.equal((pg as PgNotifier).database, 'postgres://hwlat:***@127.0.0.1:5432/hwlat');
  await pg.close();
  assert.throws(() => notifierFor(''), /'db'/);
  assert.throws(() => new PgNotifier({ url: 'mysql://x/y' }), /'url' must be a postgres/);
  assert.throws(() => new PgNotifier({ url: 'postgres://h/db', channel: 'Bad-Name' }), /'channel'/);
});

test('replica agents alone: the total is the local count, sent when it changes and as a heartbeat', { timeout: 20_000 }, async () => {
  const notifier = new InProcessNotifier({ origin: 'alone' });
  const sent: ChangeEvent[] = [];
  notifier.subscribe((e) => sent.push(e));
  let local = 2;
  const fleet = new ReplicaAgents({ notifier, local: () => local, checkMs: 20, everyMs: 200 });
  fleet.start();
  assert.equal(fleet.total(), 2);
  assert.deepEqual(sent.map((e) => [e.kind, e.agents]), [['agents', 2]]);
  local = 3;
  await waitFor('the new count sent', () => sent.length >= 2);
  assert.equal(fleet.total(), 3, 'its own events are not counted twice');
  assert.deepEqual(sent.slice(0, 2).map((e) => e.agents), [2, 3]);
  await waitFor('a heartbeat with the same count', () => sent.length >= 3);
  assert.equal(sent[2]?.agents, 3);
  assert.deepEqual(fleet.replicas(), []);
  await fleet.close();
  assert.equal(sent.at(-1)?.agents, 0, 'closing says 0');
  assert.throws(() => new ReplicaAgents({ notifier, local: () => 0, everyMs: 0 }), /'everyMs'/);
});

async function waitFor(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
