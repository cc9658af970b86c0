import assert from 'node:assert/strict';
import { test } from 'node:test';
import { profileKernels } from '../../agent/backends/ort-kernels.ts';
import { importOnnx, kernelCampaign, kernels, SAMPLE_FAMILIES, sampleGraph, sampleOutputShape, type CampaignSample, type KernelSample } from '../../ops-library/index.ts';
import { kernelType } from '../../ops-library/kernels/features.ts';
import { describeDiff, kernelDiff } from './kernel-truth.ts';

// The campaign's sample graphs as ORT runs them. The coverage test
// (kernel-campaign-coverage.test.ts) counts kernel types by detection on sample graphs; this
// checks, on one configuration of each kind and variant, that ORT runs exactly those kernels
// (ort-cpu: this AVX-512 machine, as kernels-ort-cpu.test.ts).

const campaign = kernelCampaign();

test("the original draw keeps its keys: each family's first configurations are the ones stored before the variants came", () => {
  const first: Record<string, string[]> = {
    conv: ['conv:ci32-co16-hw32-k3-s1-g1-relu', 'conv:ci3-co16-hw224-k7-s2-g1-none'],
    pointwise: ['pointwise:ci40-co80-hw28-k1-s1-g1-relu', 'pointwise:ci192-co48-hw16-k1-s1-g1-none'],
    dwconv: ['dwconv:ci192-co192-hw8-k5-s1-g192-relu', 'dwconv:ci96-co96-hw16-k5-s1-g96-none'],
    groupconv: ['groupconv:ci672-co672-hw14-k3-s1-g2-relu', 'groupconv:ci32-co32-hw32-k3-s1-g2-relu'],
    pool: ['pool:max-c32-hw56-k2-s2', 'pool:max-c64-hw8-k3-s1'],
    globalpool: ['globalpool:c640-hw7', 'globalpool:c256-hw7'],
    gemm: ['gemm:in1536-out100-none', 'gemm:in576-out4096-none'],
    matmul: ['matmul:a8x197x197-b8x197x64', 'matmul:a4x256x256-b4x256x64'],
    elementwise: ['elementwise:Add-384x14x14', 'elementwise:Add-96x56x56'],
    activation: ['activation:gelu-64x3072', 'activation:gelu-256x2048'],
    concat: ['concat:192+32-hw16', 'concat:1152+32-hw7'],
    softmax: ['softmax:6x197x197', 'softmax:6x256x256'],
    layernorm: ['layernorm:t3136-d192', 'layernorm:t50-d768'],
    batchnorm: ['batchnorm:c128-hw8-relu', 'batchnorm:c128-hw56-relu'],
    shuffle: ['shuffle:c32-hw32-g4', 'shuffle:c128-hw16-g2'],
  };
  for (const [family, keys] of Object.entries(first)) {
    const mine = campaign.filter((s) => s.family === family).map((s) => s.key);
    assert.equal(mine[0], keys[0], family);
    assert.ok(mine.indexOf(keys[1] as string) > 0, `${family}: ${keys[1]} is kept`);
  }
  // variants are spread through each family, and every family has some configurations
  for (const f of SAMPLE_FAMILIES) assert.ok(campaign.some((s) => s.family === f), f);
  const pools = campaign.filter((s) => s.family === 'pool').slice(0, 10);
  assert.ok(pools.some((s) => s.sample.kind === 'pool' && s.sample.c % 8 !== 0), pools.map((s) => s.key).join());
  // a share of channel counts off the multiples of 8 in the conv and pool families
  for (const f of ['conv', 'pointwise', 'dwconv', 'groupconv', 'pool', 'globalpool'] as const) {
    const channels = campaign.filter((s) => s.family === f).map((s) => ('cin' in s.sample ? s.sample.cin : 'c' in s.sample ? s.sample.c : 0));
    const odd = channels.filter((c) => c % 8 !== 0).length / channels.length;
    assert.ok(odd >= 0.04, `${f}: ${(100 * odd).toFixed(1)}% of channel counts are not multiples of 8`);
  }
});

/** one configuration of each new kind and variant, found in the default campaign */
const CASES: Array<[string, (s: KernelSample) => boolean]> = [
  ['conv + SiLU', (s) => s.kind === 'conv' && s.groups === 1 && s.kernel === 3 && s.act === 'silu'],
  ['SE reduce conv on [C,1,1], C % 4 = 2', (s) => s.kind === 'conv' && s.hw === 1 && s.cin % 4 === 2],
  ['SE expand conv with a hard gate', (s) => s.kind === 'conv' && s.hw === 1 && s.act === 'hardsigmoid'],
  ['depthwise, C % 4 = 2 (plain layout)', (s) => s.kind === 'conv' && s.groups === s.cin && s.cin === s.cout && s.cin % 4 === 2],
  ['grouped, group width 8', (s) => s.kind === 'conv' && s.groups > 1 && s.groups < s.cin && s.cin / s.groups === 8],
  ['max pool, C % 8 != 0', (s) => s.kind === 'pool' && s.op === 'max' && s.c % 8 !== 0],
  ['global pool after a depthwise conv', (s) => s.kind === 'globalpool' && s.from === 'dwconv' && !s.flatten && s.c % 16 === 0],
  ['classifier head: pool + Flatten', (s) => s.kind === 'globalpool' && s.flatten === true],
  ['ReduceMean head', (s) => s.kind === 'globalpool' && s.op === 'mean'],
  ['SiLU alone', (s) => s.kind === 'activation' && s.act === 'silu'],
  ['Add + LayerNorm', (s) => s.kind === 'layernorm' && s.skip === true],
  ['SE block, EfficientNet', (s) => s.kind === 'se' && s.act === 'silu'],
  ['SE block, MobileNetV3', (s) => s.kind === 'se' && s.gate === 'hardsigmoid'],
  ['channel split', (s) => s.kind === 'split' && s.axis === 0],
  ['q/k/v split', (s) => s.kind === 'split' && s.parts === 3],
  ['class token', (s) => s.kind === 'gather'],
  ['attention scores', (s) => s.kind === 'attention' && s.product === 'scores'],
  ['attention context', (s) => s.kind === 'attention' && s.product === 'context'],
  ['linear layer with its bias', (s) => s.kind === 'matmul' && s.bias === true],
];

/** the kernel types each case is there for: ORT must run one of them */
const WANTED: Record<string, readonly string[]> = {
  'conv + SiLU': ['com.microsoft:QuickGelu'],
  'SE reduce conv on [C,1,1], C % 4 = 2': ['com.microsoft:FusedConv/pointwise', 'Conv/pointwise'],
  'depthwise, C % 4 = 2 (plain layout)': ['com.microsoft:FusedConv/depthwise', 'Conv/depthwise'],
  'grouped, group width 8': ['com.microsoft:FusedConv/grouped', 'Conv/grouped'],
  'max pool, C % 8 != 0': ['MaxPool'],
  'global pool after a depthwise conv': ['com.microsoft.nchwc:GlobalAveragePool'],
  'classifier head: pool + Flatten': ['Flatten'],
  'ReduceMean head': ['ReduceMean'],
  'SiLU alone': ['com.microsoft:QuickGelu'],
  'Add + LayerNorm': ['com.microsoft:SkipLayerNormalization'],
  'SE block, EfficientNet': ['com.microsoft:QuickGelu'],
  'SE block, MobileNetV3': ['Mul'],
  'channel split': ['Split'],
  'q/k/v split': ['Split'],
  'class token': ['Gather'],
  'attention scores': ['com.microsoft:FusedMatMul'],
  'attention context': ['com.microsoft:FusedMatMul'],
  'linear layer with its bias': ['Gemm'],
};

test('each new kind and variant: ORT runs exactly the kernels detection finds in its sample graph, with the output shape the sample names', async () => {
  for (const [label, match] of CASES) {
    const s = campaign.find((c) => match(c.sample)) as CampaignSample | undefined;
    assert.ok(s, `the default campaign has no ${label}`);
    const bytes = sampleGraph(s.sample);
    const ran = (await profileKernels(bytes, { runs: 1, warmup: 0 })).kernels;
    const detected = kernels(importOnnx(bytes), 'ort-cpu');
    const d = kernelDiff(detected, ran);
    assert.ok(d.missing.length === 0 && d.extra.length === 0, describeDiff(`${label} (${s.key})`, d));
    assert.deepEqual(ran.at(-1)?.outputs[0], sampleOutputShape(s.sample), s.key);
    // the sampled kernels read and write the runtime's own tensors, as inside a network: Negs
    // take the graph inputs and write the graph outputs
    const io = ran.filter((k) => k.op === 'Neg').length;
    assert.ok(ran[0]?.op === 'Neg' && ran.at(-1)?.op === 'Neg' && io >= 2 && io < ran.length, `${s.key}: ORT ran ${ran.map((k) => k.op).join(', ')}`);
    const want = WANTED[label] ?? [];
    assert.ok(want.length === 0 || ran.some((k) => want.includes(kernelType(k))), `${label} (${s.key}): ORT ran ${ran.map(kernelType).join(', ')}`);
  }
});

test('sample graphs refuse configurations they cannot build, naming what is wrong', () => {
  assert.throws(() => sampleGraph({ kind: 'split', shape: [58, 28, 28], axis: 0, parts: 3 }), /split sample: 3 equal parts of axis 0 of \[58, 28, 28\]/);
  assert.throws(() => sampleGraph({ kind: 'split', shape: [58, 28, 28], axis: 3, parts: 2 }), /split sample/);
  assert.throws(() => sampleGraph({ kind: 'globalpool', c: 64, hw: 7, op: 'mean', flatten: true }), /'flatten' goes with GlobalAveragePool/);
});
