import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { profileKernels } from '../../agent/backends/index.ts';
import {
  openStore, StoreConflictError, StoreReferenceError, StoreValidationError, type SqliteStore,
} from '../../collector/index.ts';
import { planTasks } from '../../collector/server/planner.ts';
import { buildOnnx, getSpace, lowerNetwork, sampleArchs } from '../../ops-library/index.ts';
import {
  CampaignRequestSchema, KernelProfileSchema, ResultSchema,
  type DeviceProfile, type KernelProfile, type KernelProfileRecord, type Measurement,
} from '../../protocol/index.ts';
import { withStore, withTmp } from '../helpers/store.ts';

const DEV = 'dev-0123456789ab';
const DEV2 = 'dev-ba9876543210';
const space = getSpace('nasbench201');
const [ARCH, ARCH2] = sampleArchs(space, { count: 2, seed: 7 }) as [string, string];
// one real profile, measured once for the file: the store keeps what an agent really sends
const PROFILE: KernelProfile = await profileKernels(buildOnnx(lowerNetwork(space.expand(ARCH))), { threads: 1, runs: 3, warmup: 1 }).then(
  ({ runs, warmup, runMs, kernelSumMs, kernels }) => ({ runs, warmup, runMs, kernelSumMs, kernels }),
);

function device(id = DEV): DeviceProfile {
  return {
    id, name: 'kernel-box',
    hardware: { cpu: 'test cpu', cores: 2, memoryBytes: 8e9, os: 'linux', arch: 'x64', gpus: [] },
    runtime: { backend: 'ort-node', provider: 'cpu', version: '1.30.0', threads: 1 },
  };
}

async function seed(store: SqliteStore, id = DEV): Promise<void> {
  await store.upsertDevice(device(id));
  await store.startPass({ id: `pass-${id}`, deviceId: id, startedAt: '2025-01-01T00:00:00.000Z', finishedAt: null, calibrationKey: 'calib', calibrationMs: null, calibrationTrace: [] });
}

function network(id: string, key = ARCH, overrides: Partial<Measurement> = {}): Measurement {
  const ms = PROFILE.runMs;
  return {
    id, deviceId: DEV, passId: `pass-${DEV}`, level: 'network', space: space.name, key, batch: 1, warmup: 3,
    stats: { median: ms, mean: ms, p10: ms, p90: ms, stddev: 0, min: ms, cv: 0, repeats: 10, outliers: 0 },
    wallMs: 100, calibrationMs: 2.5, createdAt: '2025-01-01T00:00:01.000Z', ...overrides,
  };
}

function record(id: string, overrides: Partial<KernelProfileRecord> = {}): KernelProfileRecord {
  return { id, deviceId: DEV, source: 'network', measurementId: null, space: space.name, key: ARCH, batch: 1, calibrationMs: 2.5, profile: PROFILE, createdAt: '2025-01-01T00:00:02.000Z', ...overrides };
}

test('kernel profiles round-trip through a real SQLite file: linked to their network measurement, kernels in execution order, readable per op', async () => {
  await withTmp(async (dir) => {
    const file = path.join(dir, 'k.sqlite');
    const store = openStore({ path: file });
    try {
      assert.equal(store.schemaVersion(), 6);
      await seed(store);
      await store.insertMeasurements([network('net-00000001')]);
      const sample = record('sample-0000001', { source: 'sample', space: null, key: 'conv-c16-r32-k3-s1-g1', spec: { kind: 'conv', channels: 16 }, calibrationMs: null });
      assert.deepEqual((await store.insertKernelProfiles([record('prof-0000001', { measurementId: 'net-00000001' }), sample])), { inserted: 2, duplicates: 0 });
      // a re-sent profile is a duplicate, not an error
      assert.deepEqual((await store.insertKernelProfiles([sample])), { inserted: 0, duplicates: 1 });
    } finally {
      await store.close();
    }
    const again = openStore({ path: file });
    try {
      const [net] = (await again.listKernelProfiles({ source: 'network' }));
      assert.deepEqual(net, record('prof-0000001', { measurementId: 'net-00000001' }));
      assert.deepEqual((await again.listKernelProfiles({ measurementId: 'net-00000001' })).map((p) => p.id), ['prof-0000001']);
      assert.deepEqual((await again.listKernelProfiles({ space: null })).map((p) => [p.id, p.spec]), [['sample-0000001', { kind: 'conv', channels: 16 }]]);
      assert.equal((await again.countKernelProfiles({ deviceId: DEV })), 2);
      assert.equal((await again.countKernelProfiles({ deviceId: DEV, limit: 1 })), 1);
      const convs = (await again.listTimedKernels({ deviceId: DEV, op: 'com.microsoft.nchwc:Conv', source: 'network' }));
      const expected = PROFILE.kernels.filter((k) => k.op === 'com.microsoft.nchwc:Conv');
      assert.equal(convs.length, expected.length);
      assert.deepEqual(convs.map(({ op, attrs, inputs, outputs, nodes, name, ms }) => ({ op, attrs, inputs, outputs, nodes, name, ms })), expected);
      assert.ok(convs.every((k) => k.profileId === 'prof-0000001' && k.key === ARCH && k.calibrationMs === 2.5 && !k.disturbed));
      assert.deepEqual(convs.map((k) => k.position), [...convs.map((k) => k.position)].sort((a, b) => a - b));
      assert.equal((await again.listTimedKernels({ deviceId: DEV })).length, 2 * PROFILE.kernels.length);
    } finally {
      await again.close();
    }
  });
});

test('insertKernelProfiles refuses bad profiles by name and writes nothing of a failing batch', async () => {
  await withStore(async (store) => {
    await seed(store);
    await seed(store, DEV2);
    await store.insertMeasurements([network('net-00000001'), network('net-00000002', ARCH2)]);
    const ok = record('prof-ok-00001');
    const refused = async (batch: KernelProfileRecord[], cls: new (...a: never[]) => Error, pattern: RegExp) => {
      await assert.rejects(async () => (await store.insertKernelProfiles(batch)), (e: unknown) => e instanceof cls && pattern.test((e as Error).message), pattern.source);
      assert.equal((await store.countKernelProfiles()), 0);
    };
    await refused([ok, record('prof-00000002', { deviceId: 'dev-000000000000' })], StoreReferenceError, /profiles\[1\]\.deviceId.*unknown device/);
    await refused([ok, record('prof-00000002', { measurementId: 'nope-0000001' })], StoreReferenceError, /profiles\[1\]\.measurementId.*unknown measurement/);
    await refused([record('prof-00000002', { measurementId: 'net-00000002' })], StoreReferenceError, /not the profiled network/);
    await refused([record('prof-00000002', { measurementId: 'net-00000001', deviceId: DEV2 })], StoreReferenceError, /is of device/);
    await refused([ok, record('prof-00000002', { profile: { ...PROFILE, kernelSumMs: PROFILE.runMs * 2 } })], StoreValidationError, /profiles\[1\]\.profile\.kernelSumMs/);
    await refused([record('prof-00000002', { source: 'sample', measurementId: 'net-00000001' })], StoreValidationError, /profiles\[0\]\.measurementId/);
    await refused([record('prof-00000002', { profile: { ...PROFILE, kernels: [] } })], StoreValidationError, /profile\.kernels/);
    await refused([record('prof-00000002', { profile: { ...PROFILE, kernels: [{ ...PROFILE.kernels[0]!, ms: -1 }] } })], StoreValidationError, /kernels\[0\]\.ms/);
    await assert.rejects(async () => (await store.listTimedKernels({ device: DEV } as never)), /filter/);
    // one profile per measurement
    await store.insertKernelProfiles([record('prof-00000003', { measurementId: 'net-00000001' })]);
    await assert.rejects(async () => (await store.insertKernelProfiles([record('prof-00000004', { measurementId: 'net-00000001' })])), StoreConflictError);
  });
});

test('a kernel-profiling job: the planner marks the networks, completeJob stores the kernels with the measurement once, a disturbed one marked', async () => {
  await withStore(async (store) => {
    await seed(store);
    const request = CampaignRequestSchema.parse({ space: space.name, networks: 2, seed: 7, kernels: true });
    const tasks = planTasks(request);
    assert.ok(tasks.every((t) => t.level === 'network' && t.kernels === true));
    assert.throws(() => CampaignRequestSchema.parse({ space: space.name, ops: true, kernels: true }), /'kernels: true' profiles the campaign's networks/);
    await store.createCampaign({ id: 'camp-k', createdAt: '2025-01-01T00:00:00.000Z', request, tasks });
    const lease = (await store.leaseJobs({ deviceId: DEV, agentId: 'agent-1', max: 2, ttlMs: 60_000, now: Date.now() }));
    const [j1, j2] = lease.jobs as [typeof lease.jobs[0], typeof lease.jobs[0]];
    const m1 = network('res-00000001', j1.task.key, { jobId: j1.id });
    // the wire message carries the profile
    ResultSchema.parse({ type: 'result', resultId: m1.id, jobId: j1.id, passId: m1.passId, stats: m1.stats, batch: 1, warmup: 3, wallMs: 1, calibrationMs: 2.5, kernels: PROFILE, createdAt: m1.createdAt });
    assert.equal((await store.completeJob({ jobId: j1.id, deviceId: DEV, measurement: m1, kernels: PROFILE })), 'stored');
    assert.equal((await store.completeJob({ jobId: j1.id, deviceId: DEV, measurement: m1, kernels: PROFILE })), 'duplicate');
    const [p1] = (await store.listKernelProfiles({ measurementId: m1.id }));
    assert.equal(p1?.id, m1.id);
    assert.deepEqual(p1?.profile, KernelProfileSchema.parse(PROFILE));
    assert.equal(p1?.calibrationMs, 2.5);
    // bad kernels refuse the whole result: nothing half-stored
    const m2 = network('res-00000002', j2.task.key, { jobId: j2.id, quality: { verdict: 'disturbed', rounds: 1, discardedRounds: 9, evidence: ['calibration 1.6× its baseline'] } });
    await assert.rejects(async () => (await store.completeJob({ jobId: j2.id, deviceId: DEV, measurement: m2, kernels: { ...PROFILE, runs: 0 } })), /kernels\.runs/);
    assert.equal((await store.countMeasurements({ key: j2.task.key })), 0);
    assert.equal((await store.completeJob({ jobId: j2.id, deviceId: DEV, measurement: m2, kernels: PROFILE })), 'requeued');
    assert.deepEqual((await store.listTimedKernels({ deviceId: DEV })).filter((k) => k.disturbed).length, PROFILE.kernels.length);
    assert.equal((await store.listTimedKernels({ deviceId: DEV, usableOnly: true })).length, PROFILE.kernels.length);
  });
});
