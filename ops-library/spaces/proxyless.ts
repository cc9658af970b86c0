import { ArchParseError } from '../errors.ts';
import type { Layer } from '../graph.ts';
import type { ExpandedConvSpec, OpSpec } from '../ops/types.ts';
import type { Chw } from '../shape.ts';
import { convOut } from '../shape.ts';
import { defineSpace } from './define.ts';
import type { Choice, Position, SearchSpace } from './types.ts';

const STAGE_LAYERS = [4, 4, 4, 4, 4, 1];
const STAGE_CHANNELS = [24, 40, 80, 96, 192, 320];
const STAGE_STRIDES = [2, 2, 2, 1, 2, 1];

/** ProxylessNAS's op names, in its candidate order. */
export const PROXYLESS_CANDIDATES = Object.freeze([
  '3x3_MBConv3', '3x3_MBConv6', '5x5_MBConv3', '5x5_MBConv6', '7x7_MBConv3', '7x7_MBConv6',
] as const);

function parseCandidate(name: string): { kernel: number; expand: number } {
  const m = /^(\d)x\d_MBConv(\d)$/.exec(name) as RegExpExecArray;
  return { kernel: Number(m[1]), expand: Number(m[2]) };
}

function makeProxyless(): SearchSpace {
  const input: Chw = [3, 224, 224];
  const stem: OpSpec = { op: 'conv_bn_act', name: 'Conv', input, out: 32, kernel: 3, stride: 2, act: 'relu6' };
  const firstBlock: OpSpec = { op: 'expanded_conv', input: [32, 112, 112], out: 16, expand: 1, kernel: 3, stride: 1, idskip: false };
  let size = 112;
  let c = 16;
  const slots: Array<{ input: Chw; out: number; stride: number; idskip: boolean }> = [];
  STAGE_LAYERS.forEach((n, s) => {
    for (let i = 0; i < n; i++) {
      const stride = i === 0 ? (STAGE_STRIDES[s] as number) : 1;
      const out = STAGE_CHANNELS[s] as number;
      slots.push({ input: [c, size, size], out, stride, idskip: i > 0 });
      size = convOut(size, 3, stride, 1);
      c = out;
    }
  });
  const conv1: OpSpec = { op: 'conv_bn_act', name: 'Conv_1', input: [320, size, size], out: 1280, kernel: 1, act: 'relu6' };
  const logits: OpSpec = { op: 'logits', input: [1280, size, size], classes: 1000 };

  const mbconv = (slot: (typeof slots)[number], name: string): ExpandedConvSpec => ({
    op: 'expanded_conv', input: slot.input, out: slot.out, ...parseCandidate(name), stride: slot.stride, idskip: slot.idskip,
  });
  const positions: Position[] = slots.map((slot, i) => {
    const choices: Choice[] = PROXYLESS_CANDIDATES.map((name) => ({ name, units: [mbconv(slot, name)] }));
    // `zero` skips the layer; only possible where the identity path keeps the shape
    if (slot.idskip) choices.push({ name: 'zero', units: [] });
    return { name: `layer${i}`, choices };
  });

  return defineSpace({
    name: 'proxyless-mobile',
    summary: 'ProxylessNAS mobile space, 224x224: 21 MBConv layers × {3,5,7}×{3,6} + zero, LUT keys as in ProxylessNAS/OFA',
    input,
    classes: 1000,
    positions,
    fixedUnits: [stem, firstBlock, conv1, logits],
    // the anchor network (SpaceDefinition.anchor): a mid-sized member, sampleArchs seed 4242
    anchor:
      '5x5_MBConv3-3x3_MBConv6-7x7_MBConv6-zero-7x7_MBConv3-5x5_MBConv6-3x3_MBConv6-7x7_MBConv3-7x7_MBConv3-3x3_MBConv3-zero-7x7_MBConv6-5x5_MBConv6-3x3_MBConv3-5x5_MBConv6-3x3_MBConv3-3x3_MBConv6-3x3_MBConv3-7x7_MBConv3-3x3_MBConv6-7x7_MBConv3',
    split(arch) {
      if (arch.length === 0) throw new ArchParseError('proxyless-mobile', arch, 'empty architecture string');
      return arch.split('-');
    },
    join: (choices) => choices.join('-'),
    layers(choices) {
      const layers: Layer[] = [{ name: 'Conv', spec: stem }, { name: 'first_block', spec: firstBlock }];
      choices.forEach((name, i) => {
        if (name !== 'zero') layers.push({ name: `layer${i}`, spec: mbconv(slots[i] as (typeof slots)[number], name) });
      });
      layers.push({ name: 'Conv_1', spec: conv1 }, { name: 'Logits', spec: logits });
      return layers;
    },
  });
}

export const proxylessMobile = makeProxyless();
