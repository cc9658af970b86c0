import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planTasks } from '../../collector/index.ts';
import { CampaignRequestSchema } from '../../protocol/index.ts';
import {
  ArchParseError, buildOnnx, getSpace, graphCost, lowerNetwork, opUnitsToMeasure, sampleArchs, SPACES, spaceUnits, specKey, UnknownKeyError,
} from '../../ops-library/index.ts';
import { readHelpArchs } from '../helpers/data.ts';
import { runOnnx } from '../helpers/ort.ts';

for (const space of Object.values(SPACES)) {
  test(`${space.name}: sampled architectures expand, build and run with the computed output shape`, async () => {
    const archs = sampleArchs(space, { count: 2, seed: 11 });
    assert.ok(archs.length >= 1);
    assert.deepEqual(sampleArchs(space, { count: 2, seed: 11 }), archs, 'seeded sampler is deterministic');
    for (const arch of archs) {
      assert.equal(space.format(space.parse(arch)), arch);
      const net = space.expand(arch);
      const graph = lowerNetwork(net);
      const out = await runOnnx(buildOnnx(graph), [[1, ...net.input]]);
      assert.deepEqual([...out.dims], [1, space.classes]);
      assert.ok(out.data.every(Number.isFinite));
      // the LUT decomposition covers the fixed units plus one entry per chosen compute unit
      assert.ok(space.units(arch).length >= space.fixedUnits.length);
    }
  });
}

test('sampled archs of a search space differ across seeds', () => {
  const a = sampleArchs(getSpace('fbnet'), { count: 5, seed: 1 });
  const b = sampleArchs(getSpace('fbnet'), { count: 5, seed: 2 });
  assert.equal(new Set(a).size, 5);
  assert.notDeepEqual(a, b);
});

test('fixed nets have the published size (MobileNetV2 ≈ 300M MACs / 3.5M params, ResNet-18 ≈ 1.8G / 11.7M)', () => {
  const mb = graphCost(lowerNetwork(getSpace('mobilenetv2').expand('mobilenetv2')));
  assert.ok(mb.macs > 290e6 && mb.macs < 310e6, `mobilenetv2 MACs ${mb.macs}`);
  assert.ok(mb.params > 3.4e6 && mb.params < 3.6e6, `mobilenetv2 params ${mb.params}`);
  const rn = graphCost(lowerNetwork(getSpace('resnet18').expand('')));
  assert.ok(rn.macs > 1.75e9 && rn.macs < 1.85e9, `resnet18 MACs ${rn.macs}`);
  assert.ok(rn.params > 11.6e6 && rn.params < 11.8e6, `resnet18 params ${rn.params}`);
});

test('fbnet CIFAR: 22 positions × 9 candidates, 100 classes, 32x32; fbnet-imagenet 224 and 1000', () => {
  const s = getSpace('fbnet');
  assert.equal(s.positions.length, 22);
  assert.ok(s.positions.every((p) => p.choices.length === 9));
  assert.deepEqual([...s.input], [3, 32, 32]);
  assert.equal(s.classes, 100);
  const i = getSpace('fbnet-imagenet');
  assert.deepEqual([...i.input], [3, 224, 224]);
  assert.equal(i.classes, 1000);
  // all-skip: only the stage-entry skips (channel changes) remain as 1x1 convs
  const allSkip = Array(22).fill('skip').join('-');
  assert.equal(s.expand(allSkip).layers.filter((l) => l.spec.op === 'fbnet_block').length, 6);
});

test('proxyless-mobile: zero only where an identity skip exists', () => {
  const s = getSpace('proxyless-mobile');
  assert.equal(s.positions.length, 21);
  assert.equal(s.positions[0]?.choices.length, 6);
  assert.equal(s.positions[1]?.choices.length, 7);
  const arch = ['5x5_MBConv6', ...Array(20).fill('zero')];
  assert.throws(() => s.parse(arch.join('-')), /'zero' at layer4 is not one of/);
});

for (const space of ['fbnet', 'nasbench201'] as const) {
  const rows = readHelpArchs(space);
  test(`every arch string in the shared HELP ${space} file parses and round-trips`, { skip: rows === null ? 'shared data ../shared/data/help-latency absent' : false }, () => {
    const s = getSpace(space);
    assert.ok((rows?.length ?? 0) > 1000);
    for (const { id, arch } of rows ?? []) {
      assert.equal(s.format(s.parse(arch)), arch, `arch_id ${id}`);
    }
  });
}

test('malformed architecture strings and unknown spaces give clear errors', () => {
  const fb = getSpace('fbnet');
  assert.throws(() => fb.parse('k3_e1-k3_e1'), (e: unknown) => e instanceof ArchParseError && /expected 22 choices, got 2/.test(e.message));
  assert.throws(() => fb.parse(Array(22).fill('k7_e1').join('-')), /'k7_e1' at layer0 is not one of k3_e1, k3_e1_g2/);
  assert.throws(() => fb.parse(''), /empty architecture string/);
  const nb = getSpace('nasbench201');
  assert.throws(() => nb.parse('|nor_conv_3x3~0|+|none~0|'), /expected 3 node groups/);
  assert.throws(() => nb.parse('|nor_conv_3x3~1|+|none~0|none~1|+|none~0|none~1|none~2|'), /edge 'nor_conv_3x3~1' of node 1 must be 'op~0'/);
  assert.throws(() => nb.parse('|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|'), /'conv' at edge1<-0 is not one of none/);
  assert.throws(() => getSpace('darts'), (e: unknown) => e instanceof UnknownKeyError && /unknown space 'darts'; known: proxyless-mobile, fbnet/.test(e.message));
  assert.throws(() => getSpace('mobilenetv2').parse('resnet18'), /a fixed network's arch is 'mobilenetv2'/);
});

test('opUnitsToMeasure: every distinct unit in order, the first maxOps of them; a campaign plans exactly these op tasks', () => {
  const space = getSpace('fbnet');
  const all = [...spaceUnits(space)];
  assert.deepEqual(opUnitsToMeasure(space), all);
  assert.deepEqual(opUnitsToMeasure(space, { maxOps: 5 }), all.slice(0, 5));
  const tasks = planTasks(CampaignRequestSchema.parse({ space: 'fbnet', ops: true, maxOps: 5 }));
  assert.deepEqual(tasks.map((t) => t.key), all.slice(0, 5).map(([k]) => k));
});

test('nasbench201 units are what the runtime executes: shared ReLUs, fused ReLUs and Adds, zeros and pools once', () => {
  const s = getSpace('nasbench201');
  // the units of the first stage's cells (16 channels, 32x32), shapes dropped; a LUT sum has no
  // order, and units come in kernel detection's execution order: compared as sorted lists
  const stage1 = (arch: string) =>
    s.units(arch)
      .filter((u) => u.input.join() === '16,32,32' && u.op !== 'nb201_reduction')
      .map((u) => specKey(u).replace('-input:32x32x16-output:32x32x16', '').replace('-stride:1-groups:1', ''))
      .sort();
  const conv = (k: number, act: 'relu' | 'none', residual = false) => `conv_bn_act-kernel:${k}-act:${act}${residual ? '-residual:1' : ''}`;
  // node1 = conv1x1(x) feeds only `none` edges, yet ORT computes it; node3 = x, so every cell reads
  // the same x and the convolutions' ReLU(x) runs once for the stage (each conv has its own weights)
  assert.deepEqual(stage1('|nor_conv_1x1~0|+|skip_connect~0|none~1|+|none~0|none~1|skip_connect~2|'), ['relu', ...Array(5).fill(conv(1, 'none'))].sort());
  // all-conv cell: ReLU(x) shared by edges 0 and 1; node1 is read by ReLU only, so conv0 takes it as
  // its activation; node2 = conv1 + conv2 becomes conv1's Sum input and ReLU; node3 = (x + conv4) + conv5
  // two Sums (ORT's optimised graph of this network, cell by cell)
  assert.deepEqual(
    stage1('|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|'),
    Array(5).fill(['relu', conv(3, 'relu'), conv(3, 'relu', true), conv(3, 'none'), conv(3, 'none', true), conv(3, 'none', true)]).flat().sort(),
  );
  // node1 = x (skip): the pools of x and of node1 are one pool; node2 = pool + pool(node1) … as one
  // Add of a pool with itself; the convolutions accumulate the pools as their Sum inputs
  assert.deepEqual(
    stage1('|skip_connect~0|+|avg_pool_3x3~0|avg_pool_3x3~1|+|nor_conv_1x1~0|avg_pool_3x3~1|nor_conv_1x1~2|'),
    Array(5).fill(['avg_pool_3x3', 'add-arity:2', 'relu', conv(1, 'none', true), 'relu', conv(1, 'none', true)]).flat().sort(),
  );
  // an all-none node is a Mul by 0 in plain NCHW layout: the Adds that read it stay unfused
  assert.deepEqual(
    stage1('|none~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|avg_pool_3x3~0|skip_connect~1|nor_conv_3x3~2|'),
    Array(5).fill(['none', 'relu', conv(3, 'relu', true), 'relu', conv(1, 'none'), 'avg_pool_3x3', conv(3, 'none'), 'add-arity:2', 'add-arity:2']).flat().sort(),
  );
  assert.equal(s.additive, false);
  assert.equal(getSpace('fbnet').additive, true);
});
