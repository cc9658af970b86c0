// A refused or conflicting hello (issue 16, defects 4 and 5): a hello naming another device's pass
// is refused before anything is written; a refused hello on a live session ends that session at
// once (health stops counting the agent, its leases go back to the queue).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { openStore, startCollector, type Collector, type SqliteStore } from '../../collector/index.ts';
import { createCampaign, helloFor, rawAgent, testDevice, waitUntil } from '../helpers/raw-agent.ts';
import { TEST_TOKEN } from '../helpers/raw-agent.ts';

const dir = mkdtempSync(join(tmpdir(), 'hwlat-hello-'));
let store: SqliteStore;
let collector: Collector;
const events: Array<Record<string, unknown>> = [];
before(async () => {
  store = openStore({ path: join(dir, 'h.sqlite') });
  // a long lease TTL: a lease that comes back quickly was released, not expired
  collector = await startCollector({ store, token: TEST_TOKEN, port: 0, host: '127.0.0.1', leaseTtlMs: 60_000, log: (e) => events.push(e) });
});
after(async () => {
  await collector.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const health = async () => (await (await fetch(`${collector.url}/api/health`)).json()) as { ok: boolean; agents: number };

test("a hello naming another device's pass is refused naming 'pass.id', and leaves no device row", async () => {
  const owner = await rawAgent(collector.wsUrl);
  owner.send(helloFor({ deviceId: 'dev-aaaaaaaaaaaa', agentId: 'agent-owner-0001', passId: 'pass-shared-0001' }));
  await owner.next((m) => m.type === 'welcome');

  const intruder = await rawAgent(collector.wsUrl);
  try {
    intruder.send(helloFor({ deviceId: 'dev-bbbbbbbbbbbb', agentId: 'agent-intruder-01', passId: 'pass-shared-0001' }));
    const err = await intruder.next();
    assert.deepEqual([err.type, err.code, err.field], ['error', 'bad_message', 'pass.id'], JSON.stringify(err));
    assert.match(err.message, /pass 'pass-shared-0001' already exists and it belongs to another device/);
    assert.equal((await store.getDevice('dev-bbbbbbbbbbbb')), undefined);
    // the same device reusing its pass id with other settings: refused, and the device is not rewritten
    intruder.send({ ...helloFor({ deviceId: 'dev-aaaaaaaaaaaa', agentId: 'agent-intruder-01', passId: 'pass-shared-0001', device: testDevice('dev-aaaaaaaaaaaa', 'renamed') }), pass: { id: 'pass-shared-0001', startedAt: '2020-01-01T00:00:00.000Z', calibrationKey: 'calib' } });
    assert.equal((await intruder.next()).field, 'pass.id');
    assert.equal((await store.getDevice('dev-aaaaaaaaaaaa'))?.name, 'test device dev-aaaaaaaaaaaa');
    assert.equal(events.filter((e) => e.event === 'internal_error').length, 0);
    // the connection stays up: a hello with a pass of its own works
    intruder.send(helloFor({ deviceId: 'dev-bbbbbbbbbbbb', agentId: 'agent-intruder-01', passId: 'pass-own-00000001' }));
    assert.equal((await intruder.next()).type, 'welcome');
  } finally {
    owner.ws.close();
    intruder.ws.close();
    await Promise.all([owner.closed, intruder.closed]);
  }
});

test('a refused second hello on a live session ends the session: health stops counting it and its leases are released', async () => {
  await waitUntil(async () => (await health()).agents === 0, 5000, 'earlier agents gone');
  const deviceId = 'dev-cccccccccccc';
  const a = await rawAgent(collector.wsUrl);
  a.send(helloFor({ deviceId, agentId: 'agent-leaky-0001', passId: 'pass-leaky-00001' }));
  await a.next((m) => m.type === 'welcome');
  await createCampaign(collector.url, { space: 'nasbench201', networks: 2, devices: [deviceId] });
  a.send({ type: 'lease_request', max: 2 });
  const lease = await a.next((m) => m.type === 'lease');
  assert.equal(lease.jobs.length, 2);
  assert.equal((await health()).agents, 1);

  // a wrong token on it: refused, closed, and the session ends with it
  a.send(helloFor({ deviceId, agentId: 'agent-leaky-0001', passId: 'pass-leaky-00001', token: 'wrong-token-wrong-token' }));
  assert.equal((await a.next()).code, 'unauthorized');
  assert.equal(await a.closed, 4001);
  await waitUntil(async () => (await health()).agents === 0, 2000, 'health to stop counting the refused agent');
  for (const job of lease.jobs) assert.equal((await store.getJob(job.id))?.status, 'queued', 'the lease was released, not left to expire');
});

test('a second hello on a registered connection is refused and changes nothing', async () => {
  const a = await rawAgent(collector.wsUrl);
  a.send(helloFor({ deviceId: 'dev-eeeeeeeeeeee', agentId: 'agent-twice-0001', passId: 'pass-twice-00001' }));
  await a.next((m) => m.type === 'welcome');
  const before = (await health()).agents;
  a.send(helloFor({ deviceId: 'dev-dddddddddddd', agentId: 'agent-other-0001', passId: 'pass-other-00001' }));
  const again = await a.next();
  assert.deepEqual([again.code, again.field], ['bad_message', 'type'], JSON.stringify(again));
  assert.equal((await health()).agents, before);
  assert.equal((await store.getDevice('dev-dddddddddddd')), undefined);
  a.ws.close();
  await a.closed;
});
