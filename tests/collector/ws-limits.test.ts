// Idle and dead ws connections (issue 16, defect 1): silent connections are capped per address and
// in all (503 past the cap, the HTTP API keeps answering), closed when they do not say hello in
// time, and a registered peer that stops answering pings is dropped and its leases released.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { openStore, startCollector, type Collector, type SqliteStore } from '../../collector/index.ts';
import { createCampaign, helloFor, rawAgent, sleep, TEST_TOKEN, waitUntil, type RawAgent } from '../helpers/raw-agent.ts';

const dir = mkdtempSync(join(tmpdir(), 'hwlat-ws-limits-'));
let store: SqliteStore;
let collector: Collector;
const events: Array<Record<string, any>> = [];
const HELLO_MS = 1500;
const PING_MS = 250;
before(async () => {
  store = openStore({ path: join(dir, 'w.sqlite') });
  collector = await startCollector({
    store, token: TEST_TOKEN, port: 0, host: '127.0.0.1', leaseTtlMs: 60_000, log: (e) => events.push(e),
    maxConnectionsPerAddress: 4, maxConnections: 6, helloTimeoutMs: HELLO_MS, pingMs: PING_MS,
  });
});
after(async () => {
  await collector.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** 127.0.0.0/8 is all loopback on Linux: other source addresses stand for other machines. */
const from = (address: string) => rawAgent(collector.wsUrl, { localAddress: address });

test('silent connections: capped per address and in all with a 503, closed after the hello deadline; the API stays up', { timeout: 15_000 }, async () => {
  const t0 = Date.now();
  const mine: RawAgent[] = [];
  for (let i = 0; i < 4; i++) mine.push(await from('127.0.0.1'));
  await assert.rejects(from('127.0.0.1'), { status: 503 });
  // other addresses still get in, up to the global cap
  const others = [await from('127.0.0.2'), await from('127.0.0.3')];
  await assert.rejects(from('127.0.0.4'), (e: any) => e.status === 503 && Number(e.headers['retry-after']) > 0);
  assert.ok(events.some((e) => e.event === 'ws_refused' && /limit of 6/.test(e.reason)));
  const health = await fetch(`${collector.url}/api/health`);
  assert.equal(health.status, 200, 'the HTTP API answers while the ws endpoint is full');
  assert.ok(Date.now() - t0 < HELLO_MS, 'the refusals came from the caps, not from the deadline (machine too slow?)');

  // no hello within the deadline: each is told why and closed; their slots free up
  const codes = await Promise.all([...mine, ...others].map((c) => c.closed));
  assert.deepEqual(codes, Array(6).fill(4008));
  assert.match(mine[0]!.inbox.find((m) => m.type === 'error')?.message ?? '', /no valid 'hello' within 1500 ms/);
  const again = await from('127.0.0.1');
  again.send(helloFor({ deviceId: 'dev-5105105105a0', agentId: 'agent-limits-0001', passId: 'pass-limits-0001' }));
  assert.equal((await again.next()).type, 'welcome');
  // registered: the deadline does not apply
  await sleep(HELLO_MS + 200);
  assert.equal(again.ws.readyState, again.ws.OPEN);
  again.ws.close();
  await again.closed;
});

test('a registered agent that stops answering pings is dropped and its leases go back to the queue', { timeout: 15_000 }, async () => {
  const deviceId = 'dev-de4dde4dde4d';
  // a live agent of the device, answering pings, registers it and stays throughout
  const live = await rawAgent(collector.wsUrl);
  live.send(helloFor({ deviceId, agentId: 'agent-live-00001', passId: 'pass-live-000001' }));
  await live.next((m) => m.type === 'welcome');
  await createCampaign(collector.url, { space: 'nasbench201', networks: 1, devices: [deviceId] });
  // autoPong off: the socket stays open but the peer no longer answers (a phone gone to sleep)
  const mute = await rawAgent(collector.wsUrl, { autoPong: false });
  mute.send(helloFor({ deviceId, agentId: 'agent-mute-00001', passId: 'pass-mute-000001' }));
  mute.send({ type: 'lease_request', max: 1 });
  const jobId = (await mute.next((m) => m.type === 'lease')).jobs[0].id as string;
  assert.equal((await store.getJob(jobId))?.leaseOwner, 'agent-mute-00001');

  const code = await mute.closed;
  assert.equal(code, 1006, 'terminated, not closed politely');
  await waitUntil(async () => (await store.getJob(jobId))?.status === 'queued', 2000, 'the dead agent\'s lease to be released');
  assert.ok(events.some((e) => e.event === 'ws_dead'));
  await sleep(3 * PING_MS);
  assert.equal(live.ws.readyState, live.ws.OPEN, 'an agent answering pings is kept');
  live.ws.close();
  await live.closed;
});
