import type { CampaignRequest, DeviceProfile, JobTask, KernelProfile, Measurement, Pass } from '../../protocol/index.ts';
import { MAX_JOB_FAILURES, type Store } from '../../collector/index.ts';

/**
 * A store holding one of everything a fleet writes, in every state a job can be in: two devices,
 * a finished pass with its calibration trace, measurements with and without spec (and one sent as
 * null), anchor, cold figures and a disturbed verdict, an all-device and a listed-device campaign,
 * jobs done, leased, requeued after a disturbed result, given up after failures and never leased,
 * a sample kernel profile and a job's network kernels. For tests that move or compare whole
 * stores (db copy, backends side by side).
 */

export const DEV = 'dev-0123456789ab';
export const DEV2 = 'dev-ba9876543210';
export const T0 = 1_750_000_000_000;

export function device(id: string, name = id): DeviceProfile {
  return {
    id,
    name,
    hardware: { cpu: 'Intel(R) Xeon(R) @ 2.20GHz', cores: 16, physicalCores: 8, memoryBytes: 135e9, os: 'linux 6.1', arch: 'x64', gpus: [{ vendor: 'NVIDIA', model: 'H100', vramMb: 81_559 }] },
    runtime: { backend: 'ort-node', provider: 'cpu', version: '1.30.0', threads: 1 },
  };
}

export function pass(deviceId: string, id = `pass-${deviceId}`): Pass {
  return { id, deviceId, startedAt: '2025-01-01T00:00:00.000Z', finishedAt: null, calibrationKey: 'calib-conv', calibrationMs: null, calibrationTrace: [] };
}

export function measurement(n: number, overrides: Partial<Measurement> = {}): Measurement {
  return {
    id: `result-${String(n).padStart(4, '0')}`,
    deviceId: DEV,
    passId: `pass-${DEV}`,
    level: 'op',
    space: 'fbnet',
    key: `conv-k3-c${n}`,
    spec: { op: 'conv', cin: n, cout: n, kernel: 3, stride: 1, hw: [28, 28] },
    batch: 1,
    warmup: 10,
    stats: {
      median: 0.1 + 0.2 * n, // not exactly representable: a copy must keep every bit
      mean: 1.2345678901234567,
      p10: 0.05,
      p90: 170,
      stddev: 0.0123,
      min: 0.04,
      cv: 0.0123 / 1.2345678901234567,
      repeats: 47,
      outliers: 3,
    },
    wallMs: 812.5,
    calibrationMs: 3.25,
    // written out of order on purpose: listing sorts by createdAt, a copy keeps insertion order too
    createdAt: `2025-01-01T00:00:${String(60 - n).padStart(2, '0')}.000Z`,
    ...overrides,
  };
}

const opTask = (n: number): JobTask => ({ level: 'op', space: 'fbnet', key: `conv-k3-c${n}`, spec: { op: 'conv', cin: n, cout: n, kernel: 3, stride: 1, hw: [28, 28] } });
const netTask = (arch: string): JobTask => ({ level: 'network', space: 'fbnet', key: arch, kernels: true });

function request(overrides: Partial<CampaignRequest> = {}): CampaignRequest {
  return { space: 'fbnet', ops: true, networks: 1, seed: 0, devices: 'all', settings: { batch: 1, warmup: 3, minRepeats: 10, minTimeMs: 200 }, ...overrides };
}

export const KERNELS: KernelProfile = {
  runs: 3,
  warmup: 1,
  runMs: 1.5,
  kernelSumMs: 1.2,
  kernels: [
    { op: 'com.microsoft.nchwc:Conv', attrs: { kernel_shape: [3, 3], group: 1, auto_pad: 'NOTSET', activation: 'Relu' }, inputs: [[1, 3, 32, 32]], outputs: [[1, 16, 32, 32]], nodes: ['conv1', 'relu1'], name: 'conv1_kernel_time', ms: 0.7 },
    { op: 'GlobalAveragePool', attrs: {}, inputs: [[1, 16, 32, 32]], outputs: [[1, 16, 1, 1]], nodes: ['gap'], name: 'gap_kernel_time', ms: 0.5 },
  ],
};

const AGENT = 'agent-aaaa-0001';

/** Fills `store` (empty) as described above; returns the ids of the jobs by the state it left them in. */
export async function populate(store: Store): Promise<Record<'done' | 'leased' | 'requeued' | 'failed' | 'queued', string>> {
  await store.upsertDevice(device(DEV, 'laptop'));
  await store.upsertDevice(device(DEV2, 'phone'));
  await store.startPass(pass(DEV));
  await store.startPass(pass(DEV2));
  await store.finishPass(`pass-${DEV2}`, { finishedAt: '2025-01-01T01:00:00.000Z', calibrationMs: 0.1 + 0.2, calibrationTrace: [0.3, 0.31, 0.1 + 0.2] });

  const ms = [
    measurement(1),
    measurement(2, { level: 'network', space: null, key: 'mbv2-full', calibrationMs: null, anchorMs: 0.1 + 0.7 }),
    measurement(3, { spec: null, batch: 8, warmup: 0 }),
    measurement(4, {
      deviceId: DEV2,
      passId: `pass-${DEV2}`,
      cold: { median: 1.5, mean: 1.6, p10: 1.4, p90: 1.9, stddev: 0.1, min: 1.3, cv: 0.06, repeats: 5, outliers: 0 },
      quality: { verdict: 'disturbed', rounds: 4, discardedRounds: 3, evidence: ['calibration 1.6× its baseline in 7 rounds', 'quotes "and" \\ backslashes, ünïcode'] },
    }),
  ];
  delete ms[1]!.spec;
  await store.insertMeasurements(ms);

  await store.createCampaign({ id: 'camp-all', createdAt: '2025-01-02T00:00:00.000Z', request: request({ name: 'everyone' }), tasks: [opTask(10), opTask(11), opTask(12), opTask(13), netTask('arch-a')] });
  await store.createCampaign({ id: 'camp-listed', createdAt: '2025-01-03T00:00:00.000Z', request: request({ devices: [DEV2], ops: false, networks: 1, kernels: true }), tasks: [netTask('arch-b')] });
  await store.ensureJobsForDevice(DEV);
  await store.ensureJobsForDevice(DEV2);

  // DEV: lease everything, then finish the jobs in different ways
  const grant = await store.leaseJobs({ deviceId: DEV, agentId: AGENT, max: 10, ttlMs: 60_000, now: T0 });
  const byKey = new Map(grant.jobs.map((j) => [j.task.key, j.id]));
  const id = (key: string): string => byKey.get(key)!;
  await store.completeJob({ jobId: id('conv-k3-c10'), deviceId: DEV, measurement: measurement(10, { key: 'conv-k3-c10' }), now: T0 + 1000 });
  await store.completeJob({
    jobId: id('conv-k3-c11'),
    deviceId: DEV,
    measurement: measurement(11, { key: 'conv-k3-c11', quality: { verdict: 'disturbed', rounds: 2, discardedRounds: 5, evidence: ['busy'] } }),
    now: T0 + 2000,
  });
  await store.completeJob({
    jobId: id('arch-a'),
    deviceId: DEV,
    measurement: measurement(14, { level: 'network', key: 'arch-a', spec: null, anchorMs: 2.5 }),
    kernels: KERNELS,
    now: T0 + 3000,
  });
  for (let i = 0; i < MAX_JOB_FAILURES; i++) {
    if (i > 0) await store.leaseJobs({ deviceId: DEV, agentId: AGENT, max: 1, ttlMs: 60_000, now: T0 + 4000 + i });
    await store.failJob({ jobId: id('conv-k3-c12'), deviceId: DEV, agentId: AGENT, error: `cannot build it (${i})` });
  }
  await store.insertKernelProfiles([
    { id: 'sample-00000001', deviceId: DEV2, source: 'sample', measurementId: null, space: null, key: 'conv-sample-1', spec: { cin: 8, hw: [14, 14] }, batch: 1, calibrationMs: 0.5, profile: KERNELS, createdAt: '2025-01-04T00:00:00.000Z' },
  ]);
  const requeued = id('conv-k3-c11');
  const failed = id('conv-k3-c12');
  return {
    done: id('conv-k3-c10'),
    leased: id('conv-k3-c13'),
    requeued,
    failed,
    queued: `camp-listed:${DEV2}:0`,
  };
}

/** Everything a store holds, read through the Store interface, for comparing two stores. */
export async function dumpStore(store: Store): Promise<Record<string, unknown>> {
  const campaigns = await store.listCampaigns();
  const jobs = await store.listJobs();
  return {
    devices: await store.listDevices(),
    passes: await Promise.all([DEV, DEV2].map((d) => store.getPass(`pass-${d}`))),
    measurements: await store.listMeasurements(),
    campaigns,
    progress: await Promise.all(campaigns.map((c) => store.campaignProgress(c.id, T0 + 10_000))),
    jobs,
    eachJob: await Promise.all(jobs.map((j) => store.getJob(j.id))),
    kernelProfiles: await store.listKernelProfiles(),
    timedKernels: await store.listTimedKernels(),
  };
}
