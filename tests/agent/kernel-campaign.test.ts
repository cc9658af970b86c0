import { test } from 'node:test';
import assert from 'node:assert/strict';
import { calibrationClock, createBackend, kernelProfilerFor, runKernelCampaign, type KernelProfiler } from '../../agent/index.ts';
import { DEFAULT_QUOTAS, kernelCampaign, SAMPLE_FAMILIES, SAMPLE_GRAPH_VERSION, sampleGraph, sampleOutputShape } from '../../ops-library/index.ts';
import { KernelProfileRecordSchema, type KernelProfileRecord } from '../../protocol/index.ts';
import { withStore } from '../helpers/store.ts';

test('the kernel campaign: deterministic per seed, unique keys, every family, families interleaved, quotas kept', async () => {
  const a = kernelCampaign();
  assert.deepEqual(kernelCampaign().map((s) => s.key), a.map((s) => s.key));
  assert.notDeepEqual(kernelCampaign({ seed: 1 }).slice(0, 20).map((s) => s.key), a.slice(0, 20).map((s) => s.key));
  assert.equal(new Set(a.map((s) => s.key)).size, a.length);
  assert.deepEqual(a.slice(0, SAMPLE_FAMILIES.length).map((s) => s.family), [...SAMPLE_FAMILIES]);
  for (const f of SAMPLE_FAMILIES) {
    const n = a.filter((s) => s.family === f).length;
    assert.ok(n > 0 && n <= DEFAULT_QUOTAS[f], `${f}: ${n}`);
  }
  // the conv families span what real models use
  const convs = a.flatMap((s) => (s.sample.kind === 'conv' ? [s.sample] : []));
  assert.deepEqual(new Set(convs.map((c) => c.kernel)), new Set([1, 3, 5, 7]));
  assert.deepEqual(new Set(convs.map((c) => c.stride)), new Set([1, 2]));
  assert.ok(convs.some((c) => c.residual) && convs.some((c) => c.cin === 3));
  assert.ok(new Set(convs.map((c) => c.hw)).size >= 8);
  assert.equal(kernelCampaign({ quotas: { conv: 3, pointwise: 0 } }).filter((s) => s.family === 'conv' || s.family === 'pointwise').length, 3);
  assert.throws(() => kernelCampaign({ quotas: { convs: 3 } as never }), /unknown sample family 'convs'/);
  assert.throws(() => kernelCampaign({ quotas: { conv: -1 } }), /quota of 'conv'/);
});

test('a campaign limited to one configuration per family, profiled in context into a real SQLite file', async () => {
  const samples = kernelCampaign().slice(0, SAMPLE_FAMILIES.length);
  const backend = await createBackend('ort-node', { threads: 1 });
  const clock = await calibrationClock(backend);
  const records: KernelProfileRecord[] = [];
  try {
    const profiler = kernelProfilerFor(backend.info, { runs: 5, warmup: 1 }) as KernelProfiler;
    const progress: string[] = [];
    const r = await runKernelCampaign({ samples, profiler, deviceId: 'dev-0123456789ab', calibrate: clock.measure, onProfile: (p) => void records.push(p), onProgress: (_d, _t, key) => progress.push(key) });
    assert.equal(r.profiled, samples.length);
    assert.deepEqual(r.failed, []);
    assert.equal(r.skipped, 0);
    assert.equal(r.calibrationTrace.length, 1);
    assert.deepEqual(progress, samples.map((s) => s.key));
  } finally {
    await clock.dispose();
    await backend.dispose();
  }
  for (const [i, rec] of records.entries()) {
    const s = samples[i]!;
    KernelProfileRecordSchema.parse(rec);
    assert.equal(rec.key, s.key);
    assert.equal(rec.source, 'sample');
    assert.ok(rec.calibrationMs !== null && rec.calibrationMs > 0);
    // the graph's result is the last kernel's output
    assert.deepEqual(rec.profile.kernels.at(-1)?.outputs[0], sampleOutputShape(s.sample), s.key);
    assert.ok(rec.profile.kernels.reduce((a, k) => a + k.ms, 0) <= rec.profile.runMs, s.key);
  }
  const opsOf = (family: string) => records[samples.findIndex((s) => s.family === family)]!.profile.kernels.map((k) => k.op);
  // what ORT runs for each family: the conv with its activation fused, NCHWc layouts, contrib fusions
  assert.ok(opsOf('conv').includes('com.microsoft.nchwc:Conv'), opsOf('conv').join());
  assert.ok(opsOf('dwconv').includes('com.microsoft.nchwc:Conv'), opsOf('dwconv').join());
  assert.ok(opsOf('layernorm').includes('LayerNormalization'));
  assert.ok(opsOf('matmul').includes('MatMul'));
  assert.ok(opsOf('softmax').includes('Softmax'));
  assert.ok(opsOf('concat').includes('Concat'));
  assert.ok(opsOf('shuffle').includes('Transpose'));
  const gelu = kernelCampaign().find((s) => s.sample.kind === 'activation' && s.sample.act === 'gelu')!;
  const geluProfile = await kernelProfilerFor({ backend: 'ort-node', provider: 'cpu', version: '1.30.0', threads: 1 }, { runs: 2, warmup: 0 })!.profile(sampleGraph(gelu.sample));
  assert.deepEqual(geluProfile.kernels.map((k) => k.op), ['Neg', 'com.microsoft:Gelu', 'Neg'], 'the Erf pattern fuses into one Gelu kernel (between the Negs that read and write the graph)');

  // and into a real SQLite file, read back by op
  await withStore(async (store) => {
    await store.upsertDevice({ id: 'dev-0123456789ab', name: 'x', hardware: { cpu: 'c', cores: 2, memoryBytes: 1e9, os: 'linux', arch: 'x64', gpus: [] }, runtime: { backend: 'ort-node', provider: 'cpu', version: '1.30.0', threads: 1 } });
    assert.deepEqual((await store.insertKernelProfiles(records)), { inserted: records.length, duplicates: 0 });
    const stored = (await store.listKernelProfiles({ source: 'sample' }));
    assert.deepEqual(stored.map((p) => p.spec), samples.map((s) => ({ ...s.sample, graph: SAMPLE_GRAPH_VERSION })), "each sample stored with the version of the graphs it ran on");
    assert.ok((await store.listTimedKernels({ op: 'LayerNormalization', source: 'sample' })).length >= 1);
  });
});

test('runKernelCampaign: a configuration the runtime refuses is recorded and skipped; a time budget and a signal stop it', async () => {
  const samples = kernelCampaign().slice(0, 6);
  let calls = 0;
  const flaky: KernelProfiler = {
    name: 'flaky',
    profile: async () => {
      calls++;
      if (calls === 2) throw new Error('unsupported');
      return { runs: 1, warmup: 0, runMs: 1, kernelSumMs: 0.5, kernels: [{ op: 'Relu', attrs: {}, inputs: [[1]], outputs: [[1]], nodes: ['r'], name: 'r', ms: 0.5 }] };
    },
  };
  const got: string[] = [];
  const r = await runKernelCampaign({ samples, profiler: flaky, deviceId: 'dev-0123456789ab', onProfile: (p) => void got.push(p.key) });
  assert.deepEqual(r.failed, [{ key: samples[1]!.key, error: 'unsupported' }]);
  assert.equal(r.profiled, 5);
  assert.deepEqual(got, samples.filter((_, i) => i !== 1).map((s) => s.key));

  const slow: KernelProfiler = { ...flaky, profile: async () => (await new Promise((res) => setTimeout(res, 30)), flaky.profile(new Uint8Array())) };
  calls = 10;
  const cut = await runKernelCampaign({ samples, profiler: slow, deviceId: 'dev-0123456789ab', budgetMs: 40, onProfile: () => {} });
  assert.ok(cut.skipped >= 3 && cut.profiled + cut.skipped === samples.length, JSON.stringify(cut));
  const ctl = new AbortController();
  ctl.abort();
  assert.equal((await runKernelCampaign({ samples, profiler: slow, deviceId: 'd', signal: ctl.signal, onProfile: () => {} })).skipped, samples.length);
  // what the store refuses stops the campaign
  await assert.rejects(runKernelCampaign({ samples, profiler: flaky, deviceId: 'd', onProfile: () => { throw new Error('disk full'); } }), /disk full/);
  await assert.rejects(runKernelCampaign({ samples, profiler: flaky, deviceId: 'd', budgetMs: 0, onProfile: () => {} }), /'budgetMs'/);
});
