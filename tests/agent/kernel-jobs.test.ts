import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  attachKernels, createBackend, fingerprint, kernelProfilerFor, runAgent, type AgentEvent, type KernelProfiler,
} from '../../agent/index.ts';
import { openStore, startCollector } from '../../collector/index.ts';
import { planTasks } from '../../collector/server/planner.ts';
import { buildOnnx, getSpace, lowerNetwork } from '../../ops-library/index.ts';
import { CampaignRequestSchema, MAX_MESSAGE_BYTES, ResultSchema, type Job, type ResultMessage } from '../../protocol/index.ts';

const TOKEN = 'kernel-jobs-test-token-0123';
const SETTINGS = { batch: 1, warmup: 1, minRepeats: 3, minTimeMs: 0 };
const ARCH = '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|skip_connect~2|';
const NET_JOB: Job = { id: 'job-k', campaignId: 'c', task: { level: 'network', space: 'nasbench201', key: ARCH, kernels: true }, settings: SETTINGS };
const bytes = () => buildOnnx(lowerNetwork(getSpace('nasbench201').expand(ARCH)));
const RESULT: ResultMessage = {
  type: 'result', resultId: 'result-0001', jobId: NET_JOB.id, passId: 'pass-00000001', batch: 1, warmup: 1, wallMs: 10, calibrationMs: 1,
  stats: { median: 1, mean: 1, p10: 1, p90: 1, stddev: 0, min: 1, cv: 0, repeats: 3, outliers: 0 }, createdAt: new Date().toISOString(),
};

async function until(what: string, pred: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('a kernel-profiling campaign over the real collector: the agent measures each network, profiles its kernels, and the store keeps them with the measurement', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hwlat-kjobs-'));
  const store = openStore({ path: join(dir, 'c.sqlite') });
  const collector = await startCollector({ store, token: TOKEN, port: 0, host: '127.0.0.1' });
  const backend = await createBackend('ort-node', { threads: 1 });
  const ctl = new AbortController();
  const events: AgentEvent[] = [];
  try {
    const request = CampaignRequestSchema.parse({ space: 'nasbench201', networks: 2, seed: 11, kernels: true, settings: SETTINGS });
    const campaign = (await store.createCampaign({ id: 'camp-kernels', createdAt: new Date().toISOString(), request, tasks: planTasks(request) }));
    const device = await fingerprint(backend.info);
    const run = runAgent({ collector: collector.wsUrl, token: TOKEN, backend, device, stateDir: join(dir, 'agent'), log: (e) => events.push(e), signal: ctl.signal });
    run.catch(() => {});
    await until('the campaign done', async () => (await store.campaignProgress(campaign.id)).some((p) => p.done === 2));
    ctl.abort();
    await run;

    const nets = (await store.listMeasurements({ deviceId: device.id, level: 'network', space: 'nasbench201' }));
    assert.equal(nets.length, 2);
    for (const m of nets) {
      const [p] = (await store.listKernelProfiles({ measurementId: m.id }));
      assert.ok(p, `a kernel profile for ${m.key}`);
      assert.equal(p.key, m.key);
      assert.equal(p.calibrationMs, m.calibrationMs);
      assert.equal(p.profile.runs, 20);
      assert.ok(p.profile.kernels.some((k) => k.op === 'com.microsoft.nchwc:Conv'));
      assert.ok(p.profile.kernelSumMs > 0 && p.profile.kernelSumMs <= p.profile.runMs);
    }
    assert.equal((await store.listTimedKernels({ deviceId: device.id })).length, (await store.listKernelProfiles()).reduce((n, p) => n + p.profile.kernels.length, 0));
    assert.equal(events.filter((e) => e.event === 'kernels' && e.kernels === 'attached').length, 2);
  } finally {
    ctl.abort();
    await backend.dispose();
    await collector.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('attachKernels: only jobs that ask, the result always goes, and what stops the kernels is said', async () => {
  const op: Job = { id: 'op', campaignId: 'c', task: { level: 'op', space: null, key: 'k', spec: {} }, settings: SETTINGS };
  assert.deepEqual(await attachKernels(RESULT, op, bytes, undefined), { result: RESULT, outcome: null });
  const plain: Job = { ...NET_JOB, task: { level: 'network', space: 'nasbench201', key: ARCH } };
  assert.equal((await attachKernels(RESULT, plain, bytes, undefined)).outcome, null);

  const none = await attachKernels(RESULT, NET_JOB, bytes, undefined);
  assert.equal(none.result, RESULT);
  assert.match(JSON.stringify(none.outcome), /cannot profile kernels/);

  const broken: KernelProfiler = { name: 'broken', profile: async () => { throw new Error('no session'); } };
  assert.match(JSON.stringify((await attachKernels(RESULT, NET_JOB, bytes, broken)).outcome), /profiling failed: no session/);

  const profiler = kernelProfilerFor({ backend: 'ort-node', provider: 'cpu', version: '1.30.0', threads: 1 }, { runs: 3, warmup: 1 });
  assert.ok(profiler);
  const real = await attachKernels(RESULT, NET_JOB, bytes, profiler);
  assert.equal(real.outcome?.kernels, 'attached');
  const parsed = ResultSchema.parse(JSON.parse(JSON.stringify(real.result)));
  assert.equal(parsed.kernels?.runs, 3);
  assert.ok(!('folded' in (parsed.kernels ?? {})), 'diagnostics stay on the agent');

  // a profile too large for one message: the result goes without it
  const k = parsed.kernels!.kernels[0]!;
  const huge: KernelProfiler = { name: 'huge', profile: async () => ({ ...parsed.kernels!, kernels: Array.from({ length: 4000 }, (_, i) => ({ ...k, name: `${k.name}-${i}`.padEnd(100, 'x') })) }) };
  const big = await attachKernels(RESULT, NET_JOB, bytes, huge);
  assert.equal(big.result, RESULT);
  assert.match(JSON.stringify(big.outcome), new RegExp(`over the collector's ${MAX_MESSAGE_BYTES}`));
  assert.equal(kernelProfilerFor({ backend: 'ort-web', provider: 'webgpu', version: '1.30.0', threads: 1 }), null);
});
