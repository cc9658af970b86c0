import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getSpace, specKey, spaceUnits } from '../../ops-library/index.ts';

test('MBConv keys are exactly the ProxylessNAS/OFA LUT format', () => {
  assert.equal(
    specKey({ op: 'expanded_conv', input: [16, 112, 112], out: 24, expand: 3, kernel: 3, stride: 2, idskip: false }),
    'expanded_conv-input:112x112x16-output:56x56x24-expand:3-kernel:3-stride:2-idskip:0',
  );
  assert.equal(
    specKey({ op: 'expanded_conv', input: [24, 56, 56], out: 40, expand: 6, kernel: 5, stride: 2, idskip: false }),
    'expanded_conv-input:56x56x24-output:28x28x40-expand:6-kernel:5-stride:2-idskip:0',
  );
  assert.equal(
    specKey({ op: 'expanded_conv', input: [96, 14, 14], out: 96, expand: 6, kernel: 7, stride: 1, idskip: true }),
    'expanded_conv-input:14x14x96-output:14x14x96-expand:6-kernel:7-stride:1-idskip:1',
  );
});

test('the proxyless-mobile space yields the published fixed-layer keys', () => {
  const keys = [...spaceUnits(getSpace('proxyless-mobile')).keys()];
  for (const k of [
    'Conv-input:224x224x3-output:112x112x32',
    'expanded_conv-input:112x112x32-output:112x112x16-expand:1-kernel:3-stride:1-idskip:0',
    'expanded_conv-input:112x112x16-output:56x56x24-expand:3-kernel:3-stride:2-idskip:0',
    'expanded_conv-input:56x56x24-output:56x56x24-expand:6-kernel:7-stride:1-idskip:1',
    'expanded_conv-input:56x56x24-output:28x28x40-expand:6-kernel:5-stride:2-idskip:0',
    'expanded_conv-input:14x14x96-output:7x7x192-expand:3-kernel:3-stride:2-idskip:0',
    'expanded_conv-input:7x7x192-output:7x7x320-expand:6-kernel:7-stride:1-idskip:0',
    'Conv_1-input:7x7x320-output:7x7x1280',
    'Logits-input:7x7x1280-output:1000',
  ]) {
    assert.ok(keys.includes(k), `missing ${k}`);
  }
  // 6 stages: first layer (6 candidates) + the shared idskip shape (6 candidates), last stage one layer
  assert.equal(keys.length, 4 + 5 * 12 + 6);
});

test('keys of FBNet and NAS-Bench-201 units name the block and its shapes', () => {
  assert.equal(
    specKey({ op: 'fbnet_block', block: 'k3_e1_g2', input: [16, 32, 32], out: 24, stride: 1 }),
    'k3_e1_g2-input:32x32x16-output:32x32x24-stride:1',
  );
  assert.equal(specKey({ op: 'nb201_op', edge: 'nor_conv_3x3', input: [32, 16, 16] }), 'nor_conv_3x3-input:16x16x32-output:16x16x32');
  // fixed 4, three edge ops, and at each of 3 stage shapes the runtime's zero, Add, ReLU and the
  // 8 forms of an edge convolution (1x1/3x3, with or without a fused ReLU and a Sum input)
  assert.equal(spaceUnits(getSpace('nasbench201')).size, 4 + 3 * 3 + 3 * (3 + 8));
  assert.equal(
    specKey({ op: 'conv_bn_act', input: [16, 32, 32], out: 16, kernel: 3, act: 'relu', residual: true }),
    'conv_bn_act-input:32x32x16-output:32x32x16-kernel:3-stride:1-groups:1-act:relu-residual:1',
  );
});
