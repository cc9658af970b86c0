import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { importOnnx, kernelCampaign, kernels, sampleGraph } from '../../ops-library/index.ts';
import { kernelMacs, kernelType } from '../../ops-library/kernels/features.ts';
import type { RuntimeKernel } from '../../ops-library/kernels/types.ts';
import { torchvisionModels } from '../helpers/torchvision.ts';

// Issue 14: the kernel-sampling campaign must cover every kernel type real models run, or a
// model's kernels of that type have no regressor of their own (they fall back to the all-kernels
// one). The campaign's sample graphs go through the same kernel detection as the models (not ORT:
// seconds instead of a campaign's half hour); tests/ops-library/kernel-sample-graph.test.ts checks
// that detection on sample graphs agrees with what ORT runs.

/** predictor/kernel-model's default minPerType: a type with fewer kernels gets no regressor */
const MIN_PER_TYPE = 6;
/** this machine's block (AVX-512: 16) and AVX2's (8): channel counts fall out of NCHWc differently */
const RUNTIMES = ['ort-cpu', 'ort-cpu-nchwc8'] as const;

test('every kernel type of the torchvision models appears in the default campaign, per CPU rule set', async (t) => {
  const models = torchvisionModels(t);
  if (!models) return;
  // the campaign's kernels per type, each sample imported once and detected by both rule sets
  const inCampaign = new Map<string, Map<string, number>>(RUNTIMES.map((r) => [r, new Map()]));
  const campaign = kernelCampaign();
  for (const s of campaign) {
    const ir = importOnnx(sampleGraph(s.sample));
    for (const runtime of RUNTIMES) {
      const counts = inCampaign.get(runtime) as Map<string, number>;
      for (const k of kernels(ir, runtime)) counts.set(kernelType(k), (counts.get(kernelType(k)) ?? 0) + 1);
    }
  }
  const missing: string[] = [];
  for (const [name, path] of models) {
    const ir = importOnnx(new Uint8Array(readFileSync(path)));
    for (const runtime of RUNTIMES) {
      const counts = inCampaign.get(runtime) as Map<string, number>;
      const ks = kernels(ir, runtime);
      // a type's share of the model: of its MACs, and of the elements its kernels write (what an elementwise kernel's time follows)
      const written = (k: RuntimeKernel) => k.outputs.reduce((a, s) => a + s.reduce((x, y) => x * y, 1), 0);
      const total = { macs: ks.reduce((a, k) => a + kernelMacs(k), 0), out: ks.reduce((a, k) => a + written(k), 0) };
      const types = new Map<string, { n: number; macs: number; out: number }>();
      for (const k of ks) {
        const e = types.get(kernelType(k)) ?? { n: 0, macs: 0, out: 0 };
        types.set(kernelType(k), { n: e.n + 1, macs: e.macs + kernelMacs(k), out: e.out + written(k) });
      }
      const thin = [...types].filter(([type]) => (counts.get(type) ?? 0) < MIN_PER_TYPE);
      const pct = (x: number, of: number) => `${((100 * x) / of).toFixed(1)}%`;
      for (const [type, e] of thin) missing.push(`${runtime} ${name}: ${type} ×${e.n} (${pct(e.macs, total.macs)} of its MACs, ${pct(e.out, total.out)} of the elements written; campaign has ${counts.get(type) ?? 0})`);
      t.diagnostic(`${runtime} ${name}: ${types.size} kernel types, ${types.size - thin.length} with >= ${MIN_PER_TYPE} campaign kernels`);
    }
  }
  for (const runtime of RUNTIMES) {
    const counts = [...(inCampaign.get(runtime) as Map<string, number>)].sort(([a], [b]) => a.localeCompare(b));
    t.diagnostic(`${runtime}: ${campaign.length} configurations, ${counts.length} kernel types: ${counts.map(([type, n]) => `${type} ${n}`).join(', ')}`);
  }
  assert.deepEqual(missing, [], `kernel types of real models the campaign misses:\n${missing.join('\n')}`);
});
