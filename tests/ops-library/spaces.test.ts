import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ArchParseError, buildOnnx, getSpace, graphCost, lowerNetwork, sampleArchs, SPACES, specKey, UnknownKeyError,
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

test('nasbench201 units are what the runtime executes: every edge op, node sums as Adds, zeros, common subexpressions once', () => {
  const s = getSpace('nasbench201');
  // the units of the first stage's cells (16 channels, 32x32), in order
  const stage1 = (arch: string) =>
    s.units(arch).filter((u) => u.op !== 'conv_bn_act' && u.input.join() === '16,32,32' && u.op !== 'nb201_reduction').map((u) => specKey(u));
  // node1 = conv1x1(x) feeds only `none` edges, yet ORT computes it; no node sums two terms
  assert.deepEqual(stage1('|nor_conv_1x1~0|+|skip_connect~0|none~1|+|none~0|none~1|skip_connect~2|'), Array(5).fill('nor_conv_1x1-input:32x32x16-output:32x32x16'));
  // node1 = zero (all none), live through skip 1→2; node2 = x + 0 (one Add); node3 = conv + node1 + node2 (two Adds)
  const cell = [
    'none-input:32x32x16-output:32x32x16',
    'add-input:32x32x16-output:32x32x16-arity:2',
    'nor_conv_1x1-input:32x32x16-output:32x32x16',
    'add-input:32x32x16-output:32x32x16-arity:2',
    'add-input:32x32x16-output:32x32x16-arity:2',
  ];
  assert.deepEqual(stage1('|none~0|+|skip_connect~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|'), [...cell, ...cell, ...cell, ...cell, ...cell]);
  // common subexpressions run once, as ORT's optimiser merges them: node1 = x (skip), so the pools
  // of x and of node1 are one pool (ORT's optimised graph of this network: 17 AveragePool of 47)
  const pool = 'avg_pool_3x3-input:32x32x16-output:32x32x16';
  const conv1 = 'nor_conv_1x1-input:32x32x16-output:32x32x16';
  const add = 'add-input:32x32x16-output:32x32x16-arity:2';
  assert.deepEqual(stage1('|skip_connect~0|+|avg_pool_3x3~0|avg_pool_3x3~1|+|nor_conv_1x1~0|avg_pool_3x3~1|nor_conv_1x1~2|'), Array(5).fill([pool, add, conv1, conv1, add, add]).flat());
  // the two all-none nodes of a cell are one Mul by 0
  assert.deepEqual(stage1('|none~0|+|none~0|none~1|+|skip_connect~0|skip_connect~1|skip_connect~2|'), Array(5).fill(['none-input:32x32x16-output:32x32x16', add, add]).flat());
  // a cell whose output is its input (node3 = skip of x) passes x on: every cell's zero is the same
  // Mul (ORT: 3 Mul nodes for 15 cells), while each cell's convolutions (own weights) and their
  // sum in node2 all run
  assert.deepEqual(stage1('|none~0|+|nor_conv_1x1~0|nor_conv_1x1~1|+|skip_connect~0|none~1|none~2|'), ['none-input:32x32x16-output:32x32x16', ...Array(5).fill([conv1, conv1, add]).flat()]);
  assert.equal(s.additive, false);
  assert.equal(getSpace('fbnet').additive, true);
});
