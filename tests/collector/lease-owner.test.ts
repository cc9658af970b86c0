// Who may complete a leased job (issue 16, defect 9): the agent holding the lease, or another agent
// of the same device once the holder is gone (a restarted agent re-sending its outbox), logged.
// While the holder is connected and its lease lasts, another agent's result is refused, not stored.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { openStore, startCollector, type Collector, type SqliteStore } from '../../collector/index.ts';
import { createCampaign, helloFor, rawAgent, resultFor, TEST_TOKEN, waitUntil } from '../helpers/raw-agent.ts';

const dir = mkdtempSync(join(tmpdir(), 'hwlat-lease-owner-'));
let store: SqliteStore;
let collector: Collector;
const events: Array<Record<string, any>> = [];
before(async () => {
  store = openStore({ path: join(dir, 'l.sqlite') });
  collector = await startCollector({ store, token: TEST_TOKEN, port: 0, host: '127.0.0.1', leaseTtlMs: 60_000, log: (e) => events.push(e) });
});
after(async () => {
  await collector.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const DEVICE = 'dev-1e0501e0501e';

test("another agent of the device cannot complete a job a connected agent holds; once that agent is gone it can, and it is logged", async () => {
  const holder = await rawAgent(collector.wsUrl);
  holder.send(helloFor({ deviceId: DEVICE, agentId: 'agent-holder-0001', passId: 'pass-holder-0001' }));
  await holder.next((m) => m.type === 'welcome');
  const other = await rawAgent(collector.wsUrl);
  other.send(helloFor({ deviceId: DEVICE, agentId: 'agent-other-00001', passId: 'pass-other-00001' }));
  await other.next((m) => m.type === 'welcome');
  await createCampaign(collector.url, { space: 'nasbench201', networks: 2, devices: [DEVICE] });
  holder.send({ type: 'lease_request', max: 1 });
  const jobId = (await holder.next((m) => m.type === 'lease')).jobs[0].id as string;

  other.send(resultFor(jobId, 'result-other-0001', 'pass-other-00001'));
  const refused = await other.next((m) => m.resultId === 'result-other-0001');
  assert.deepEqual([refused.type, refused.code, refused.field], ['error', 'leased_elsewhere', 'jobId'], JSON.stringify(refused));
  assert.equal((await store.countMeasurements()), 0);
  assert.deepEqual([(await store.getJob(jobId))?.status, (await store.getJob(jobId))?.leaseOwner], ['leased', 'agent-holder-0001']);

  // the holder's own result completes it
  holder.send(resultFor(jobId, 'result-holder-0001', 'pass-holder-0001'));
  assert.deepEqual((await holder.next((m) => m.type === 'ack')).resultIds, ['result-holder-0001']);
  // the other agent re-sending later: the job is done, acked as a duplicate, nothing stored twice
  other.send(resultFor(jobId, 'result-other-0001', 'pass-other-00001'));
  assert.deepEqual((await other.next((m) => m.type === 'ack')).resultIds, ['result-other-0001']);
  assert.equal((await store.countMeasurements()), 1);
  assert.deepEqual(events.filter((e) => e.event === 'result_from_other_agent'), []);

  // a lease held by an agent that is gone (the collector restarted since it leased): the other
  // agent of the device completes the job, and the collector says so
  const second = (await store.listJobs({ deviceId: DEVICE })).find((j) => j.status === 'queued')!;
  const grant = (await store.leaseJobs({ deviceId: DEVICE, agentId: 'agent-gone-000001', max: 1, ttlMs: 60_000, now: Date.now() }));
  assert.equal(grant.jobs[0]?.id, second.id);
  other.send(resultFor(second.id, 'result-other-0002', 'pass-other-00001'));
  assert.deepEqual((await other.next((m) => m.type === 'ack')).resultIds, ['result-other-0002']);
  assert.equal((await store.getJob(second.id))?.status, 'done');
  await waitUntil(() => events.some((e) => e.event === 'result_from_other_agent'), 2000, 'the takeover to be logged');
  const logged = events.find((e) => e.event === 'result_from_other_agent')!;
  assert.deepEqual([logged.jobId, logged.agentId, logged.leaseOwner], [second.id, 'agent-other-00001', 'agent-gone-000001']);
  holder.ws.close();
  other.ws.close();
});
