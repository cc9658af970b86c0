import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { campaignFinished, type CampaignRequest, type DeviceProfile, type Job, type JobTask, type Measurement, type Pass } from '../../protocol/index.ts';
import {
  DISTURBED_RETRY_MS,
  PERSISTENT_WINDOW,
  MAX_DISTURBED_REQUEUES,
  MAX_JOB_FAILURES,
  MIGRATIONS,
  StoreConflictError,
  StoreJobStateError,
  StoreNotFoundError,
  StoreReferenceError,
  StoreValidationError,
  openStore,
  type CampaignInput,
  type SqliteStore,
} from '../../collector/index.ts';
import { migrate } from '../../collector/store/migrate.ts';
import { withStore as storeIn, withTmp as tmpDir } from '../helpers/store.ts';

const withTmp = (fn: (dir: string) => void) => tmpDir(fn, 'hwlat-fleet-');
const withStore = (fn: (store: SqliteStore, file: string) => void) => storeIn(fn, 'hwlat-fleet-');

const DEV = 'dev-0123456789ab';
const DEV2 = 'dev-ba9876543210';
const DEV3 = 'dev-cccccccccccc';
const AGENT = 'agent-aaaa-0001';
const AGENT2 = 'agent-bbbb-0002';
/** the test clock: leases are decided by the `now` the tests pass, never by the wall clock */
const T0 = 1_750_000_000_000;
const TTL = 60_000;

function device(id: string, name = id): DeviceProfile {
  return {
    id,
    name,
    hardware: { cpu: 'Intel(R) Xeon(R)', cores: 16, memoryBytes: 135e9, os: 'linux', arch: 'x64', gpus: [] },
    runtime: { backend: 'ort-node', provider: 'cpu', version: '1.30.0', threads: 1 },
  };
}

function pass(deviceId: string, id = `pass-${deviceId}`): Pass {
  return {
    id,
    deviceId,
    startedAt: '2025-01-01T00:00:00.000Z',
    finishedAt: null,
    calibrationKey: 'calib-fbnet',
    calibrationMs: null,
    calibrationTrace: [],
  };
}

/** Registers devices the way a hello does: the device, its pass, its jobs. */
function register(store: SqliteStore, ...ids: string[]): number[] {
  return ids.map((id) => {
    store.upsertDevice(device(id));
    store.startPass(pass(id));
    return store.ensureJobsForDevice(id);
  });
}

function opTask(n: number, space: string | null = 'fbnet'): Extract<JobTask, { level: 'op' }> {
  return { level: 'op', space, key: `conv-k3-c${n}`, spec: { op: 'conv', cin: n, cout: n, kernel: 3, stride: 1, hw: [28, 28] } };
}

function netTask(arch: string): JobTask {
  return { level: 'network', space: 'fbnet', key: arch };
}

function request(overrides: Partial<CampaignRequest> = {}): CampaignRequest {
  return {
    space: 'fbnet',
    ops: true,
    networks: 1,
    seed: 0,
    devices: 'all',
    settings: { batch: 1, warmup: 3, minRepeats: 10, minTimeMs: 200 },
    ...overrides,
  };
}

function campaign(id: string, tasks: JobTask[], overrides: Partial<CampaignRequest> = {}, createdAt = '2025-01-01T00:00:00.000Z'): CampaignInput {
  return { id, createdAt, request: request(overrides), tasks };
}

const TASKS = [opTask(16), opTask(32), netTask('k3_e1-k5_e3')];

/** The measurement an agent's result for `job` becomes (what the ws endpoint builds). */
function resultFor(job: Job, deviceId: string, resultId: string, median = 1.25): Measurement {
  const task = job.task;
  return {
    id: resultId,
    deviceId,
    passId: `pass-${deviceId}`,
    level: task.level,
    space: task.space,
    key: task.key,
    spec: task.level === 'op' ? task.spec : null,
    batch: 1,
    warmup: 3,
    stats: { median, mean: median, p10: median, p90: median, stddev: 0, min: median, cv: 0, repeats: 10, outliers: 0 },
    wallMs: 40,
    calibrationMs: 2.5,
    createdAt: '2025-01-01T00:01:00.000Z',
    jobId: job.id,
  };
}

/** Leases `max` jobs of DEV to AGENT at `now` and returns them. */
function lease(store: SqliteStore, max: number, now = T0, agentId = AGENT, deviceId = DEV) {
  return store.leaseJobs({ deviceId, agentId, max, ttlMs: TTL, now });
}

test('a campaign materialises one job per task per device, and reads back with defaults filled in', () => {
  withStore((store) => {
    register(store, DEV, DEV2);
    const created = store.createCampaign(campaign('camp-1', TASKS, { name: 'first' }));
    assert.deepEqual(created, { id: 'camp-1', createdAt: '2025-01-01T00:00:00.000Z', request: request({ name: 'first' }), tasks: 3 });
    // the same layer key on two devices is two jobs
    assert.equal(store.countJobs(), 6);
    assert.equal(store.countJobs({ deviceId: DEV }), 3);
    assert.equal(store.countJobs({ deviceId: DEV2, campaignId: 'camp-1', status: 'queued' }), 3);
    assert.equal(store.countJobs({ status: 'leased' }), 0);
    assert.equal(store.countJobs({ limit: 4 }), 4);

    const job = store.getJob(`camp-1:${DEV}:1`);
    assert.ok(job);
    assert.deepEqual(
      { ...job, createdAt: typeof job.createdAt },
      {
        id: `camp-1:${DEV}:1`,
        campaignId: 'camp-1',
        task: opTask(32),
        settings: request().settings,
        deviceId: DEV,
        taskIdx: 1,
        status: 'queued',
        attempts: 0,
        failures: 0,
        lastError: null,
        leaseId: null,
        leaseOwner: null,
        leaseExpiresAt: null,
        resultId: null,
        doneAt: null,
        createdAt: 'string',
      },
    );
    assert.equal(store.getJob('nope'), undefined);
    assert.deepEqual(
      store.listJobs({ campaignId: 'camp-1', deviceId: DEV2 }).map((j) => j.id),
      [0, 1, 2].map((i) => `camp-1:${DEV2}:${i}`),
    );

    // defaults of a request posted with the bare minimum are stored filled in
    const minimal = { space: 'fbnet', networks: 2 } as unknown as CampaignRequest;
    const c2 = store.createCampaign({ id: 'camp-2', createdAt: '2025-01-02T00:00:00.000Z', request: minimal, tasks: [netTask('a'), netTask('b')] });
    assert.equal(c2.request.devices, 'all');
    assert.deepEqual(c2.request.settings, { batch: 1, warmup: 3, minRepeats: 10, minTimeMs: 200 });
    assert.deepEqual(store.getCampaign('camp-2'), c2);
    assert.equal(store.getCampaign('camp-404'), undefined);
    assert.deepEqual(store.listCampaigns().map((c) => c.id), ['camp-2', 'camp-1']); // newest first
    assert.equal(store.countJobs(), 10);
  });
});

test('a device that registers later gets the all-device campaigns, not the explicit-list ones', () => {
  withStore((store) => {
    register(store, DEV, DEV2);
    store.createCampaign(campaign('camp-all', TASKS));
    store.createCampaign(campaign('camp-list', [opTask(8), opTask(9)], { devices: [DEV2] }, '2025-01-02T00:00:00.000Z'));
    assert.equal(store.countJobs({ campaignId: 'camp-list' }), 2);
    assert.equal(store.countJobs({ campaignId: 'camp-list', deviceId: DEV }), 0);

    assert.deepEqual(register(store, DEV3), [3]);
    assert.equal(store.countJobs({ deviceId: DEV3, campaignId: 'camp-all' }), 3);
    assert.equal(store.countJobs({ deviceId: DEV3, campaignId: 'camp-list' }), 0);
    // a second hello creates nothing and keeps the jobs' state
    lease(store, 1, T0, AGENT, DEV3);
    assert.equal(store.ensureJobsForDevice(DEV3), 0);
    assert.equal(store.ensureJobsForDevice(DEV2), 0);
    assert.equal(store.countJobs({ deviceId: DEV3, status: 'leased' }), 1);
    assert.throws(() => store.ensureJobsForDevice('dev-ffffffffffff'), (err: Error) => {
      assert.ok(err instanceof StoreReferenceError);
      assert.match(err.message, /unknown device 'dev-ffffffffffff'/);
      return true;
    });
  });
});

test('bad campaigns are refused with the field named, and write nothing', () => {
  withStore((store) => {
    register(store, DEV);
    const nothingWritten = () => {
      assert.deepEqual(store.listCampaigns(), []);
      assert.equal(store.countJobs(), 0);
    };
    assert.throws(() => store.createCampaign(campaign('camp-x', TASKS, { devices: [DEV, 'dev-ffffffffffff', 'dev-eeeeeeeeeeee'] })), (err: Error) => {
      assert.ok(err instanceof StoreReferenceError);
      assert.equal(err.argument, 'campaign.request.devices');
      assert.match(err.message, /unknown devices 'dev-ffffffffffff', 'dev-eeeeeeeeeeee'/);
      return true;
    });
    nothingWritten();
    assert.throws(() => store.createCampaign(campaign('camp-x', [opTask(1), { level: 'op', space: null, key: '' } as JobTask])), (err: Error) => {
      assert.ok(err instanceof TypeError);
      assert.ok(err instanceof StoreValidationError);
      assert.match(err.message, /invalid campaign\.tasks\[1\]\.key/);
      return true;
    });
    assert.throws(() => store.createCampaign(campaign('camp-x', [opTask(1), opTask(2), opTask(1)])), /campaign\.tasks\[2\]: repeats tasks\[0\]/);
    assert.throws(() => store.createCampaign(campaign('camp-x', [])), /campaign\.tasks: a campaign needs at least one task/);
    assert.throws(() => store.createCampaign(campaign('camp-x', TASKS, { ops: false, networks: 0 })), /invalid campaign\.request\.networks/);
    assert.throws(() => store.createCampaign(campaign('camp-x', TASKS, {}, 'yesterday')), /invalid campaign\.createdAt/);
    assert.throws(() => store.createCampaign(campaign('camp-x', [{ ...opTask(1), spec: { n: 1n } }])), /campaign\.tasks\[0\]: not JSON-serialisable/);
    nothingWritten();

    // posting the same campaign again is harmless; another one under the same id is a conflict
    const c = store.createCampaign(campaign('camp-1', TASKS));
    assert.deepEqual(store.createCampaign(campaign('camp-1', TASKS)), c);
    assert.throws(() => store.createCampaign(campaign('camp-1', [opTask(5)])), (err: Error) => {
      assert.ok(err instanceof StoreConflictError);
      assert.match(err.message, /campaign 'camp-1' already exists: stored with different tasks/);
      return true;
    });
    assert.throws(() => store.createCampaign(campaign('camp-1', TASKS, { seed: 7 })), /stored with a different request/);
    assert.equal(store.countJobs(), 3);
  });
});

test('a lease takes at most max jobs, oldest campaign first, and nobody else gets them until it expires', () => {
  withStore((store) => {
    register(store, DEV, DEV2);
    // created second but older by its timestamp: leased first
    store.createCampaign(campaign('camp-new', [opTask(100)], {}, '2025-02-01T00:00:00.000Z'));
    store.createCampaign(campaign('camp-old', TASKS, {}, '2025-01-01T00:00:00.000Z'));

    const first = lease(store, 2);
    assert.ok(first.leaseId);
    assert.equal(first.expiresAt, T0 + TTL);
    assert.deepEqual(first.jobs, [
      { id: `camp-old:${DEV}:0`, campaignId: 'camp-old', task: TASKS[0], settings: request().settings },
      { id: `camp-old:${DEV}:1`, campaignId: 'camp-old', task: TASKS[1], settings: request().settings },
    ]);
    const leased = store.getJob(first.jobs[0]!.id)!;
    assert.equal(leased.status, 'leased');
    assert.equal(leased.leaseOwner, AGENT);
    assert.equal(leased.leaseId, first.leaseId);
    assert.equal(leased.leaseExpiresAt, T0 + TTL);
    assert.equal(leased.attempts, 1);

    // another agent of the same device gets the rest, across campaigns, and nothing leased already
    const second = lease(store, 10, T0 + 1000, AGENT2);
    assert.notEqual(second.leaseId, first.leaseId);
    assert.deepEqual(second.jobs.map((j) => j.id), [`camp-old:${DEV}:2`, `camp-new:${DEV}:0`]);
    assert.deepEqual(lease(store, 10, T0 + TTL - 1, AGENT2), { leaseId: null, jobs: [], expiresAt: null });
    // the other device's jobs are its own
    assert.equal(lease(store, 10, T0, AGENT2, DEV2).jobs.length, 4);
    assert.equal(store.countJobs({ status: 'queued' }), 0);
  });
});

test('an expired lease returns its jobs to the queue; re-leasing counts the attempt', () => {
  withStore((store) => {
    register(store, DEV);
    store.createCampaign(campaign('camp-1', TASKS));
    const first = lease(store, 2);
    // valid while now < expiresAt
    assert.equal(store.expireLeases(T0 + TTL - 1), 0);
    assert.deepEqual(store.campaignProgress('camp-1', T0 + TTL - 1), [{ deviceId: DEV, total: 3, queued: 1, leased: 2, done: 0, failed: 0 }]);
    // expired leases count as queued even before anything returned them
    assert.deepEqual(store.campaignProgress('camp-1', T0 + TTL), [{ deviceId: DEV, total: 3, queued: 3, leased: 0, done: 0, failed: 0 }]);
    assert.equal(store.getJob(first.jobs[0]!.id)!.status, 'leased');

    // leasing returns expired leases first, so the same jobs go to the next agent, in task order
    const again = lease(store, 2, T0 + TTL, AGENT2);
    assert.deepEqual(again.jobs.map((j) => j.id), first.jobs.map((j) => j.id));
    const job = store.getJob(first.jobs[0]!.id)!;
    assert.equal(job.attempts, 2);
    assert.equal(job.leaseOwner, AGENT2);
    assert.equal(job.leaseExpiresAt, T0 + 2 * TTL);

    assert.equal(store.expireLeases(T0 + 2 * TTL), 2);
    assert.equal(store.expireLeases(T0 + 2 * TTL), 0);
    assert.deepEqual(store.getJob(first.jobs[0]!.id), { ...job, status: 'queued', leaseId: null, leaseOwner: null, leaseExpiresAt: null });
    assert.throws(() => store.expireLeases(-1), /invalid now/);
    assert.throws(() => store.leaseJobs({ deviceId: DEV, agentId: AGENT, max: 0, ttlMs: TTL, now: T0 }), /invalid options\.max/);
    assert.throws(() => store.leaseJobs({ deviceId: DEV, agentId: AGENT, max: 1, ttlMs: TTL, now: 1.5 }), /invalid options\.now/);
  });
});

test('heartbeats keep leases alive; only unexpired leases of the agent are extended', () => {
  withStore((store) => {
    register(store, DEV);
    store.createCampaign(campaign('camp-1', [opTask(1), opTask(2), opTask(3), opTask(4)]));
    const a = lease(store, 1);
    const b = lease(store, 1);
    const other = lease(store, 1, T0, AGENT2);

    // AGENT heartbeats every half TTL for three TTLs: its leases never lapse. AGENT2 does not, so
    // its leases lapse and it keeps getting only its own two jobs back, never AGENT's.
    let now = T0;
    const mine = new Set([a.jobs[0]!.id, b.jobs[0]!.id]);
    for (let i = 0; i < 6; i++) {
      now += TTL / 2;
      assert.equal(store.extendLeases({ agentId: AGENT, expiresAt: now + TTL, now }), 2);
      const taken = lease(store, 10, now, AGENT2).jobs.map((j) => j.id);
      assert.ok(taken.every((id) => !mine.has(id)), `AGENT2 got one of AGENT's jobs at step ${i}: ${taken.join(', ')}`);
    }
    assert.equal(store.countJobs({ status: 'leased' }), 4);
    assert.equal(store.getJob(a.jobs[0]!.id)!.leaseExpiresAt, now + TTL);
    assert.equal(store.getJob(a.jobs[0]!.id)!.attempts, 1);
    assert.ok(store.getJob(other.jobs[0]!.id)!.attempts > 1);

    // only the named lease; never shortened; an unknown or foreign lease id extends nothing
    assert.equal(store.extendLeases({ agentId: AGENT, leaseIds: [a.leaseId!], expiresAt: now + 5 * TTL, now }), 1);
    assert.equal(store.extendLeases({ agentId: AGENT, leaseIds: [b.leaseId!], expiresAt: now + 1, now }), 1);
    assert.equal(store.getJob(b.jobs[0]!.id)!.leaseExpiresAt, now + TTL);
    assert.equal(store.extendLeases({ agentId: AGENT, leaseIds: ['no-such-lease', other.leaseId!], expiresAt: now + TTL, now }), 0);
    assert.equal(store.extendLeases({ agentId: AGENT, leaseIds: [], expiresAt: now + TTL, now }), 0);

    // an expired lease is not revived by a late heartbeat
    const late = now + TTL;
    assert.equal(store.extendLeases({ agentId: AGENT, expiresAt: late + TTL, now: late }), 1); // a only
    assert.equal(store.getJob(b.jobs[0]!.id)!.leaseExpiresAt, now + TTL);
    assert.throws(() => store.extendLeases({ agentId: AGENT, expiresAt: late, now: late }), /invalid options\.expiresAt: must be after now/);
  });
});

test('releaseLeases gives an agent’s unfinished jobs back at once', () => {
  withStore((store) => {
    register(store, DEV);
    store.createCampaign(campaign('camp-1', [opTask(1), opTask(2), opTask(3), opTask(4)]));
    const a = lease(store, 2);
    const b = lease(store, 1);
    const other = lease(store, 1, T0, AGENT2);
    store.completeJob({ jobId: a.jobs[0]!.id, deviceId: DEV, measurement: resultFor(a.jobs[0]!, DEV, 'result-a0-0001') });

    assert.equal(store.releaseLeases({ agentId: AGENT, leaseIds: [b.leaseId!] }), 1);
    assert.equal(store.getJob(b.jobs[0]!.id)!.status, 'queued');
    assert.equal(store.releaseLeases({ agentId: AGENT, leaseIds: [] }), 0);
    assert.equal(store.releaseLeases({ agentId: AGENT, leaseIds: [other.leaseId!] }), 0); // not its lease
    // all of the agent's leases; the done job stays done
    assert.equal(store.releaseLeases({ agentId: AGENT }), 1);
    assert.equal(store.getJob(a.jobs[0]!.id)!.status, 'done');
    assert.equal(store.getJob(a.jobs[1]!.id)!.status, 'queued');
    assert.equal(store.getJob(other.jobs[0]!.id)!.status, 'leased');
    assert.deepEqual(store.campaignProgress('camp-1', T0), [{ deviceId: DEV, total: 4, queued: 2, leased: 1, done: 1, failed: 0 }]);
    // released jobs are leased again straight away, attempts counting on
    const again = lease(store, 10, T0 + 1);
    assert.deepEqual(again.jobs.map((j) => [j.id, store.getJob(j.id)!.attempts]), [[a.jobs[1]!.id, 2], [b.jobs[0]!.id, 2]]);
  });
});

test('completeJob stores one measurement per job; re-sent and second results are duplicates', () => {
  withStore((store) => {
    register(store, DEV, DEV2);
    store.createCampaign(campaign('camp-1', TASKS));
    const { jobs } = lease(store, 3);
    const [op, , net] = jobs;

    const first = resultFor(op!, DEV, 'result-op-0001');
    assert.equal(store.completeJob({ jobId: op!.id, deviceId: DEV, measurement: first, now: T0 + 5 }), 'stored');
    const done = store.getJob(op!.id)!;
    assert.deepEqual(
      [done.status, done.resultId, done.doneAt, done.leaseId, done.leaseOwner, done.leaseExpiresAt, done.attempts],
      ['done', 'result-op-0001', T0 + 5, null, null, null, 1],
    );
    // the agent re-sends after a reconnect: acknowledged again, nothing written
    assert.equal(store.completeJob({ jobId: op!.id, deviceId: DEV, measurement: first }), 'duplicate');
    // a second result for a done job (another result id, other figures) does not replace the first
    const second = resultFor(op!, DEV, 'result-op-0002', 9.9);
    assert.equal(store.completeJob({ jobId: op!.id, deviceId: DEV, measurement: second }), 'duplicate');
    assert.deepEqual(store.listMeasurements(), [first]); // with its jobId, exactly as sent

    // a network job: spec null round-trips too
    const netResult = resultFor(net!, DEV, 'result-net-0001');
    assert.equal(store.completeJob({ jobId: net!.id, deviceId: DEV, measurement: netResult }), 'stored');
    assert.equal(store.countMeasurements(), 2);
    assert.deepEqual(store.listMeasurements({ level: 'network' }), [netResult]);
    // jobId may be left to the store
    const { jobId: _omitted, ...noJobId } = resultFor(jobs[1]!, DEV, 'result-op2-0001');
    assert.equal(store.completeJob({ jobId: jobs[1]!.id, deviceId: DEV, measurement: noJobId }), 'stored');
    assert.equal(store.listMeasurements({ key: jobs[1]!.task.key })[0]!.jobId, jobs[1]!.id);
    assert.deepEqual(store.campaignProgress('camp-1', T0), [
      { deviceId: DEV, total: 3, queued: 0, leased: 0, done: 3, failed: 0 },
      { deviceId: DEV2, total: 3, queued: 3, leased: 0, done: 0, failed: 0 },
    ]);
    assert.deepEqual(lease(store, 10), { leaseId: null, jobs: [], expiresAt: null });

    // a result id already stored for another job is not this job's result
    const other = lease(store, 1, T0, AGENT2, DEV2).jobs[0]!;
    assert.throws(
      () => store.completeJob({ jobId: other.id, deviceId: DEV2, measurement: resultFor(other, DEV2, 'result-op-0001') }),
      (err: Error) =>
        err instanceof StoreConflictError &&
        /measurement 'result-op-0001' already exists: it completed job 'camp-1:dev-0123456789ab:0'/.test(err.message),
    );
    assert.equal(store.getJob(other.id)!.status, 'leased');
  });
});

test('a late result is accepted while the job is not done, and the other agent’s result is then a duplicate', () => {
  withStore((store) => {
    register(store, DEV);
    store.createCampaign(campaign('camp-1', [opTask(1)]));
    const slow = lease(store, 1).jobs[0]!;
    // the slow agent's lease expires and the job goes to another agent of the same device
    const fast = lease(store, 1, T0 + TTL, AGENT2).jobs[0]!;
    assert.equal(fast.id, slow.id);
    // the slow agent's result arrives first: equally valid, stored; the re-lease is over
    assert.equal(store.completeJob({ jobId: slow.id, deviceId: DEV, measurement: resultFor(slow, DEV, 'result-slow-001') }), 'stored');
    assert.equal(store.getJob(slow.id)!.leaseOwner, null);
    assert.equal(store.extendLeases({ agentId: AGENT2, expiresAt: T0 + 3 * TTL, now: T0 + TTL + 1 }), 0);
    assert.equal(store.completeJob({ jobId: fast.id, deviceId: DEV, measurement: resultFor(fast, DEV, 'result-fast-001') }), 'duplicate');
    assert.deepEqual(store.listMeasurements().map((m) => [m.id, m.jobId]), [['result-slow-001', slow.id]]);
    assert.equal(store.getJob(slow.id)!.attempts, 2);
  });
});

test('completeJob refuses unknown, foreign, never-leased and mismatched results and writes nothing', () => {
  withStore((store) => {
    register(store, DEV, DEV2);
    store.createCampaign(campaign('camp-1', TASKS));
    const job = lease(store, 1).jobs[0]!;
    const neverLeased = store.getJob(`camp-1:${DEV}:1`)!;
    const good = resultFor(job, DEV, 'result-good-001');
    /** a call of completeJob, for assert.throws */
    const complete = (jobId: string, deviceId: string, measurement: Measurement) => () => store.completeJob({ jobId, deviceId, measurement });

    assert.throws(complete('camp-1:nope:0', DEV, { ...good, jobId: 'camp-1:nope:0' }), (err: Error) => {
      assert.ok(err instanceof StoreNotFoundError);
      assert.match(err.message, /completeJob: unknown job 'camp-1:nope:0'/);
      return true;
    });
    assert.throws(complete(job.id, DEV2, { ...good, deviceId: DEV2, passId: `pass-${DEV2}` }), (err: Error) => {
      assert.ok(err instanceof StoreJobStateError);
      assert.equal(err.code, 'wrong_device');
      assert.equal(err.jobId, job.id);
      assert.match(err.message, /belongs to device 'dev-0123456789ab', not 'dev-ba9876543210'/);
      return true;
    });
    assert.throws(complete(neverLeased.id, DEV, resultFor(neverLeased, DEV, 'result-early-01')), (err: Error) => {
      assert.ok(err instanceof StoreJobStateError);
      assert.equal(err.code, 'not_leased');
      assert.match(err.message, /was never leased/);
      return true;
    });
    assert.throws(complete(job.id, DEV, { ...good, stats: { ...good.stats, median: -1 } }), (err: Error) => {
      assert.ok(err instanceof TypeError);
      assert.ok(err instanceof StoreValidationError);
      assert.equal(err.argument, 'measurement.stats.median');
      return true;
    });
    assert.throws(complete(job.id, DEV, { ...good, key: 'conv-k5-c16' }), (err: Error) => {
      assert.ok(err instanceof StoreValidationError);
      assert.match(err.message, /invalid measurement\.key: job '.*' measures key "conv-k3-c16", not "conv-k5-c16"/);
      return true;
    });
    assert.throws(complete(job.id, DEV, { ...good, level: 'network', spec: null }), /invalid measurement\.level/);
    assert.throws(complete(job.id, DEV, { ...good, jobId: neverLeased.id }), /invalid measurement\.jobId/);
    assert.throws(complete(job.id, DEV, { ...good, deviceId: DEV2 }), /invalid measurement\.deviceId/);
    assert.throws(complete(job.id, DEV, { ...good, passId: 'pass-unknown' }), (err: Error) => {
      assert.ok(err instanceof StoreReferenceError);
      assert.match(err.message, /measurement\.passId: unknown pass 'pass-unknown'/);
      return true;
    });
    assert.throws(complete(job.id, DEV, { ...good, passId: `pass-${DEV2}` }), /measurement\.passId: pass 'pass-dev-ba9876543210' belongs to device/);

    assert.equal(store.countMeasurements(), 0);
    assert.equal(store.getJob(job.id)!.status, 'leased');
    assert.equal(store.getJob(neverLeased.id)!.status, 'queued');
    assert.equal(store.completeJob({ jobId: job.id, deviceId: DEV, measurement: good }), 'stored');
  });
});

test('insertMeasurements keeps local profiles apart from jobs', () => {
  withStore((store) => {
    register(store, DEV);
    store.createCampaign(campaign('camp-1', [opTask(1)]));
    const job = lease(store, 1).jobs[0]!;
    const local = resultFor(job, DEV, 'result-local-01');
    delete local.jobId;
    assert.deepEqual(store.insertMeasurements([local, { ...local, id: 'result-local-02', jobId: null }]), { inserted: 2, duplicates: 0 });
    // no job: both read back without the key
    assert.deepEqual(store.listMeasurements().map((m) => 'jobId' in m), [false, false]);
    assert.throws(() => store.insertMeasurements([{ ...local, id: 'result-local-03', jobId: job.id }]), (err: Error) => {
      assert.ok(err instanceof StoreValidationError);
      assert.match(err.message, /measurements\[0\]\.jobId: .*must be stored with completeJob/);
      return true;
    });
    // a local profile's result id cannot be passed off as a job's result
    assert.throws(() => store.completeJob({ jobId: job.id, deviceId: DEV, measurement: { ...local, jobId: job.id } }), /it is a measurement of no job/);
    assert.equal(store.getJob(job.id)!.status, 'leased');
  });
});

test('campaignProgress counts per device; an unknown campaign is not found', () => {
  withStore((store) => {
    register(store, DEV, DEV2);
    store.createCampaign(campaign('camp-1', [opTask(1), opTask(2), opTask(3), opTask(4)]));
    const a = lease(store, 3);
    store.completeJob({ jobId: a.jobs[0]!.id, deviceId: DEV, measurement: resultFor(a.jobs[0]!, DEV, 'result-p-00001') });
    lease(store, 1, T0 + 10, AGENT2, DEV2);
    assert.deepEqual(store.campaignProgress('camp-1', T0 + 10), [
      { deviceId: DEV, total: 4, queued: 1, leased: 2, done: 1, failed: 0 },
      { deviceId: DEV2, total: 4, queued: 3, leased: 1, done: 0, failed: 0 },
    ]);
    // without a clock it uses the wall clock, long after these leases expired
    assert.deepEqual(store.campaignProgress('camp-1').map((p) => p.leased), [0, 0]);
    assert.throws(() => store.campaignProgress('camp-404'), (err: Error) => {
      assert.ok(err instanceof StoreNotFoundError);
      assert.match(err.message, /campaignProgress: unknown campaign 'camp-404'/);
      return true;
    });
    assert.throws(() => store.countJobs({ state: 'done' } as never), /invalid filter/);
    assert.throws(() => store.countJobs({ status: 'running' as never }), /invalid filter\.status/);
  });
});

test('failJob requeues the job with one more failure; at MAX_JOB_FAILURES it is given up and counted as failed', () => {
  withStore((store) => {
    register(store, DEV, DEV2);
    store.createCampaign(campaign('camp-1', [opTask(1), opTask(2)]));
    assert.equal(MAX_JOB_FAILURES, 3);
    const first = lease(store, 1).jobs[0]!;
    assert.equal(first.id, `camp-1:${DEV}:0`);

    assert.deepEqual(store.failJob({ jobId: first.id, deviceId: DEV, agentId: AGENT, error: "unknown op 'conv9'" }), { failures: 1, gaveUp: false });
    const requeued = store.getJob(first.id)!;
    assert.deepEqual(
      [requeued.status, requeued.leaseId, requeued.leaseOwner, requeued.leaseExpiresAt, requeued.attempts, requeued.failures, requeued.lastError],
      ['queued', null, null, null, 1, 1, "unknown op 'conv9'"],
    );
    // back in the queue at once: not failed yet, and the next lease (any agent of the device) gets it first
    assert.deepEqual(store.campaignProgress('camp-1', T0 + 1)[0], { deviceId: DEV, total: 2, queued: 2, leased: 0, done: 0, failed: 0 });
    assert.equal(store.countJobs({ status: 'failed' }), 0);
    assert.equal(lease(store, 1, T0 + 1, AGENT2).jobs[0]!.id, first.id);
    assert.deepEqual(store.failJob({ jobId: first.id, deviceId: DEV, agentId: AGENT2, error: 'second' }), { failures: 2, gaveUp: false });
    assert.equal(lease(store, 1, T0 + 2).jobs[0]!.id, first.id);
    assert.deepEqual(store.failJob({ jobId: first.id, deviceId: DEV, agentId: AGENT, error: 'third' }), { failures: 3, gaveUp: true });

    // given up: never leased again, by anyone, even after every lease expired
    const rest = lease(store, 10, T0 + 3);
    assert.deepEqual(rest.jobs.map((j) => j.id), [`camp-1:${DEV}:1`]);
    assert.deepEqual(lease(store, 10, T0 + 10 * TTL, AGENT2).jobs.map((j) => j.id), [`camp-1:${DEV}:1`]);
    assert.deepEqual(lease(store, 10, T0 + 10 * TTL + 1, AGENT2), { leaseId: null, jobs: [], expiresAt: null });
    const given = store.getJob(first.id)!;
    assert.deepEqual([given.status, given.attempts, given.failures, given.lastError], ['queued', 3, 3, 'third']);
    assert.deepEqual(store.campaignProgress('camp-1', T0 + 10 * TTL + 1), [
      { deviceId: DEV, total: 2, queued: 0, leased: 1, done: 0, failed: 1 },
      { deviceId: DEV2, total: 2, queued: 2, leased: 0, done: 0, failed: 0 },
    ]);
    // 'failed' is the given-up part of the stored 'queued'
    assert.equal(store.countJobs({ status: 'failed' }), 1);
    assert.equal(store.countJobs({ deviceId: DEV, status: 'queued' }), 1);
    assert.equal(store.countJobs({ deviceId: DEV2, status: 'failed' }), 0);
    assert.deepEqual(store.listJobs({ campaignId: 'camp-1', status: 'failed' }).map((j) => [j.id, j.failures, j.lastError]), [[first.id, 3, 'third']]);
    // a given-up job is no longer anybody's to report
    assert.throws(() => store.failJob({ jobId: first.id, deviceId: DEV, agentId: AGENT, error: 'fourth' }), (err: Error) => {
      assert.ok(err instanceof StoreJobStateError);
      assert.equal(err.code, 'not_leased');
      return true;
    });

    // finished on a device when every job is done or failed
    const other = store.getJob(`camp-1:${DEV}:1`)!;
    store.completeJob({ jobId: other.id, deviceId: DEV, measurement: resultFor(other, DEV, 'result-fj-00001') });
    const [dev, dev2] = store.campaignProgress('camp-1', T0 + 10 * TTL + 2);
    assert.deepEqual(dev, { deviceId: DEV, total: 2, queued: 0, leased: 0, done: 1, failed: 1 });
    assert.equal(campaignFinished(dev!), true);
    assert.equal(campaignFinished(dev2!), false);

    // a result that comes after all (a slow agent of an earlier lease) is still taken: it was leased
    assert.equal(store.completeJob({ jobId: first.id, deviceId: DEV, measurement: resultFor(first, DEV, 'result-fj-00002') }), 'stored');
    const late = store.getJob(first.id)!;
    assert.deepEqual([late.status, late.resultId, late.failures], ['done', 'result-fj-00002', 3]);
    assert.deepEqual(store.campaignProgress('camp-1', T0 + 10 * TTL + 2)[0], { deviceId: DEV, total: 2, queued: 0, leased: 0, done: 2, failed: 0 });
    assert.equal(store.countJobs({ status: 'failed' }), 0);
  });
});

test('failJob refuses unknown jobs, other devices and agents without the lease, and bad input; nothing is written', () => {
  withStore((store) => {
    register(store, DEV, DEV2);
    store.createCampaign(campaign('camp-1', TASKS));
    const [job, finished] = lease(store, 2).jobs;
    store.completeJob({ jobId: finished!.id, deviceId: DEV, measurement: resultFor(finished!, DEV, 'result-fr-00001') });
    const neverLeased = `camp-1:${DEV}:2`;
    const fail = (jobId: string, deviceId = DEV, agentId = AGENT, error = 'boom') => () => store.failJob({ jobId, deviceId, agentId, error });
    const refused = (code: string, pattern: RegExp) => (err: Error) => {
      assert.ok(err instanceof StoreJobStateError, String(err));
      assert.equal(err.code, code);
      assert.match(err.message, pattern);
      return true;
    };

    assert.throws(fail('camp-1:nope:0'), (err: Error) => {
      assert.ok(err instanceof StoreNotFoundError);
      assert.match(err.message, /failJob: unknown job 'camp-1:nope:0'/);
      return true;
    });
    assert.throws(fail(job!.id, DEV2), refused('wrong_device', /belongs to device 'dev-0123456789ab', not 'dev-ba9876543210'/));
    assert.throws(fail(job!.id, DEV, AGENT2), refused('not_leased', /is leased to another agent, not 'agent-bbbb-0002'/));
    assert.throws(fail(neverLeased), refused('not_leased', /is not leased/));
    assert.throws(fail(finished!.id), refused('not_leased', /is done/));
    assert.throws(fail(job!.id, DEV, AGENT, ''), (err: Error) => err instanceof StoreValidationError && err.argument === 'input.error');
    assert.throws(fail(job!.id, DEV, AGENT, 'x'.repeat(2001)), /invalid input\.error: must be at most 2000 characters/);
    assert.throws(() => store.failJob({ jobId: job!.id, deviceId: DEV, error: 'boom' } as never), /invalid input\.agentId/);

    const untouched = store.getJob(job!.id)!;
    assert.deepEqual([untouched.status, untouched.leaseOwner, untouched.failures, untouched.lastError], ['leased', AGENT, 0, null]);
    assert.deepEqual([store.getJob(neverLeased)!.failures, store.getJob(finished!.id)!.failures], [0, 0]);
    assert.equal(store.getJob(finished!.id)!.status, 'done');

    // failJob reads the lease as stored (it takes no clock): the agent's own, expired or not, until a
    // lease call hands the job to someone else
    assert.deepEqual(fail(job!.id)(), { failures: 1, gaveUp: false });
    // once the job went to another agent, the first one's report is refused
    const again = lease(store, 1, T0 + 1, AGENT2).jobs[0]!;
    assert.equal(again.id, job!.id);
    assert.throws(fail(job!.id), refused('not_leased', /leased to another agent/));
    assert.equal(store.getJob(job!.id)!.failures, 1);
  });
});

test('migration 3 upgrades a version-2 database: jobs keep their state and start with no failures', () => {
  withTmp((dir) => {
    const file = path.join(dir, 'hwlat.sqlite');
    // a file as the version-2 code left it (its statements read columns v2 lacks, so write rows in SQL)
    const v2 = new Database(file);
    assert.deepEqual(migrate(v2, MIGRATIONS.slice(0, 2), file), [1, 2]);
    const d = device(DEV);
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
        upgraded.listJobs().map((j) => [j.id, j.status, j.attempts, j.leaseOwner, j.resultId, j.failures, j.lastError]),
        [
          [jobId(0), 'done', 1, null, 'result-v2-00001', 0, null],
          [jobId(1), 'leased', 1, AGENT, null, 0, null],
          [jobId(2), 'queued', 0, null, null, 0, null],
        ],
      );
      assert.deepEqual(upgraded.listMeasurements(), [m]);
      assert.deepEqual(upgraded.campaignProgress('camp-1', T0 + 1), [{ deviceId: DEV, total: 3, queued: 1, leased: 1, done: 1, failed: 0 }]);
      // the old lease is usable with the new column
      assert.deepEqual(upgraded.failJob({ jobId: jobId(1), deviceId: DEV, agentId: AGENT, error: 'after the upgrade' }), { failures: 1, gaveUp: false });
      assert.deepEqual(lease(upgraded, 10, T0 + 2).jobs.map((j) => j.id), [jobId(1), jobId(2)]);
    } finally {
      upgraded.close();
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

test('reopening the file keeps campaigns, jobs, leases and results', () => {
  withTmp((dir) => {
    const file = path.join(dir, 'hwlat.sqlite');
    const first = openStore({ path: file });
    register(first, DEV);
    first.createCampaign(campaign('camp-1', TASKS));
    const held = lease(first, 2);
    first.completeJob({ jobId: held.jobs[0]!.id, deviceId: DEV, measurement: resultFor(held.jobs[0]!, DEV, 'result-r-00001') });
    const campaigns = first.listCampaigns();
    const jobs = first.listJobs();
    const measurements = first.listMeasurements();
    first.close();

    const second = openStore({ path: file });
    try {
      assert.deepEqual(second.migrationsApplied, []);
      assert.deepEqual(second.listCampaigns(), campaigns);
      assert.deepEqual(second.listJobs(), jobs);
      assert.deepEqual(second.listMeasurements(), measurements);
      // the lease survives the restart: its job is not leased again before it expires
      assert.deepEqual(lease(second, 10, T0 + 1, AGENT2).jobs.map((j) => j.id), [`camp-1:${DEV}:2`]);
      assert.equal(second.extendLeases({ agentId: AGENT, leaseIds: [held.leaseId!], expiresAt: T0 + 2 * TTL, now: T0 + 2 }), 1);
      assert.equal(
        second.completeJob({ jobId: held.jobs[0]!.id, deviceId: DEV, measurement: resultFor(held.jobs[0]!, DEV, 'result-r-00001') }),
        'duplicate',
      );
    } finally {
      second.close();
    }
  });
});

test('two connections to one file never lease the same job twice', () => {
  withStore((store, file) => {
    register(store, DEV);
    store.createCampaign(campaign('camp-1', Array.from({ length: 20 }, (_, i) => opTask(i + 1))));
    const other = openStore({ path: file });
    try {
      const got: string[] = [];
      for (let i = 0; i < 10; i++) {
        got.push(...lease(store, 1 + (i % 3), T0, AGENT).jobs.map((j) => j.id));
        got.push(...lease(other, 1 + (i % 2), T0, AGENT2).jobs.map((j) => j.id));
      }
      assert.equal(got.length, 20);
      assert.equal(new Set(got).size, 20);
      assert.equal(other.countJobs({ status: 'leased' }), 20);
    } finally {
      other.close();
    }
  });
});

test('a disturbed result is stored marked and its job queued again for later; after MAX_DISTURBED_REQUEUES it completes the job, still marked', () => {
  withStore((store) => {
    register(store, DEV);
    store.createCampaign(campaign('camp-1', [opTask(1)]));
    const disturbed = (job: Job, id: string): Measurement => ({
      ...resultFor(job, DEV, id, 7.5),
      quality: { verdict: 'disturbed', rounds: 0, discardedRounds: 21, evidence: ['calibration 1.80× its baseline in 21 of 21 rounds'] },
    });
    let now = T0;
    const job = lease(store, 1, now).jobs[0]!;
    const first = disturbed(job, 'result-dist-0001');
    assert.equal(store.completeJob({ jobId: job.id, deviceId: DEV, measurement: first, now }), 'requeued');
    // re-sent after a reconnect: recognised, not queued again twice
    assert.equal(store.completeJob({ jobId: job.id, deviceId: DEV, measurement: first, now }), 'duplicate');
    assert.equal(store.getJob(job.id)!.status, 'queued');
    assert.deepEqual(store.campaignProgress('camp-1', now)[0], { deviceId: DEV, total: 1, queued: 1, leased: 0, done: 0, failed: 0 });
    // held back: not leased until its time has come
    assert.deepEqual(lease(store, 1, now + DISTURBED_RETRY_MS - 1), { leaseId: null, jobs: [], expiresAt: null });
    now += DISTURBED_RETRY_MS;
    const again = lease(store, 1, now).jobs[0]!;
    assert.equal(again.id, job.id);
    for (let i = 2; i <= MAX_DISTURBED_REQUEUES; i++) {
      assert.equal(store.completeJob({ jobId: job.id, deviceId: DEV, measurement: disturbed(job, `result-dist-000${i}`), now }), 'requeued');
      // each time held back twice as long
      assert.deepEqual(lease(store, 1, now + DISTURBED_RETRY_MS * 2 ** (i - 1) - 1).jobs, []);
      now += DISTURBED_RETRY_MS * 2 ** (i - 1);
      assert.equal(lease(store, 1, now).jobs[0]!.id, job.id);
    }
    // the budget of requeues is spent: the next disturbed result completes the job, marked
    const last = disturbed(job, 'result-dist-last');
    assert.equal(store.completeJob({ jobId: job.id, deviceId: DEV, measurement: last, now }), 'stored');
    assert.equal(store.getJob(job.id)!.status, 'done');
    const stored = store.listMeasurements({ deviceId: DEV });
    assert.equal(stored.length, MAX_DISTURBED_REQUEUES + 1, 'every disturbed measurement is kept, for the user to see');
    assert.ok(stored.every((m) => m.quality?.verdict === 'disturbed' && m.jobId === job.id));
    assert.deepEqual(stored.find((m) => m.id === 'result-dist-0001'), first, 'quality round-trips exactly');
  });
});

test('a clean result after a disturbed one completes the job; the disturbed measurement stays beside it', () => {
  withStore((store) => {
    register(store, DEV);
    store.createCampaign(campaign('camp-1', [opTask(1)]));
    const job = lease(store, 1).jobs[0]!;
    const noisy: Measurement = { ...resultFor(job, DEV, 'result-dist-0001', 9), quality: { verdict: 'disturbed', rounds: 2, discardedRounds: 21, evidence: ['CPU share 0.21–0.30× of usual in 21 of 23 rounds'] } };
    assert.equal(store.completeJob({ jobId: job.id, deviceId: DEV, measurement: noisy, now: T0 }), 'requeued');
    lease(store, 1, T0 + DISTURBED_RETRY_MS);
    const clean: Measurement = {
      ...resultFor(job, DEV, 'result-clean-001', 1.2),
      cold: { median: 1.5, mean: 1.5, p10: 1.4, p90: 1.6, stddev: 0.05, min: 1.4, cv: 0.03, repeats: 10, outliers: 0 },
      quality: { verdict: 'remeasured', rounds: 10, discardedRounds: 3, evidence: ['calibration 1.40× its baseline in 3 of 13 rounds'] },
    };
    assert.equal(store.completeJob({ jobId: job.id, deviceId: DEV, measurement: clean, now: T0 + DISTURBED_RETRY_MS }), 'stored');
    const done = store.getJob(job.id)!;
    assert.deepEqual([done.status, done.resultId], ['done', 'result-clean-001']);
    assert.deepEqual(store.listMeasurements({ deviceId: DEV }).map((m) => [m.id, m.quality?.verdict]).sort(), [['result-clean-001', 'remeasured'], ['result-dist-0001', 'disturbed']]);
    assert.deepEqual(store.listMeasurements({ deviceId: DEV }).find((m) => m.id === 'result-clean-001')?.cold, clean.cold);
  });
});

test('a device disturbed for good (most of its last results disturbed) completes its jobs at once, marked, instead of measuring them again', () => {
  withStore((store) => {
    register(store, DEV);
    const n = PERSISTENT_WINDOW + 2;
    store.createCampaign(campaign('camp-1', Array.from({ length: n }, (_, i) => opTask(i + 1))));
    const jobs = lease(store, n).jobs;
    const outcomes = jobs.map((job, i) =>
      store.completeJob({
        jobId: job.id, deviceId: DEV, now: T0,
        measurement: { ...resultFor(job, DEV, `result-pers-${String(i).padStart(4, '0')}`, 7.5), quality: { verdict: 'disturbed', rounds: 1, discardedRounds: 12, evidence: ['calibration 3.10× its baseline in 12 of 13 rounds'] } },
      }),
    );
    // the first results are queued again (the device may get quiet); once the window is full of
    // disturbed ones, the rest complete their jobs
    const firstStored = outcomes.indexOf('stored');
    assert.ok(outcomes.slice(0, PERSISTENT_WINDOW - 1).every((o) => o === 'requeued'), outcomes.join(','));
    assert.equal(firstStored, PERSISTENT_WINDOW - 1, outcomes.join(','));
    assert.ok(outcomes.slice(firstStored).every((o) => o === 'stored'));
    assert.ok(store.listMeasurements({ deviceId: DEV }).every((m) => m.quality?.verdict === 'disturbed'), 'stored marked: no LUT or predictor uses them');
  });
});
