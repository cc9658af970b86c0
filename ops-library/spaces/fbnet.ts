import { ArchParseError } from '../errors.ts';
import type { Layer } from '../graph.ts';
import { FBNET_CANDIDATES, fbnetSkipIsIdentity } from '../ops/fbnet.ts';
import type { FbnetBlockSpec, FbnetCandidate, OpSpec } from '../ops/types.ts';
import type { Chw } from '../shape.ts';
import { convOut } from '../shape.ts';
import { defineSpace } from './define.ts';
import type { Position, SearchSpace } from './types.ts';

const STAGE_LAYERS = [1, 4, 4, 4, 4, 4, 1];
const STAGE_CHANNELS = [16, 24, 32, 64, 112, 184, 352];

interface Variant {
  name: string;
  summary: string;
  resolution: number;
  stemStride: number;
  stageStrides: number[];
  headChannels: number;
  classes: number;
  /** the anchor network (SpaceDefinition.anchor): a mid-sized member, sampleArchs seed 4242 */
  anchor: string;
}

const CIFAR: Variant = {
  name: 'fbnet',
  summary: 'FBNet, CIFAR-100 32x32 variant of HW-NAS-Bench and HELP: 22 layers × 9 candidates',
  resolution: 32,
  stemStride: 1,
  stageStrides: [1, 1, 2, 2, 1, 2, 1],
  headChannels: 1504,
  classes: 100,
  anchor: 'k3_e3-k5_e1-k5_e6-k5_e1-k3_e1-k3_e6-k3_e6-skip-k5_e1_g2-k5_e3-k5_e1-skip-skip-k3_e1-k3_e3-k5_e1-k3_e1-k5_e1-k5_e3-k3_e6-k5_e3-k3_e1',
};

const IMAGENET: Variant = {
  name: 'fbnet-imagenet',
  summary: 'FBNet, original ImageNet 224x224 space: 22 layers × 9 candidates',
  resolution: 224,
  stemStride: 2,
  stageStrides: [1, 2, 2, 2, 1, 2, 1],
  headChannels: 1984,
  classes: 1000,
  anchor: 'k5_e6-k3_e1_g2-k3_e1-k5_e6-k5_e1_g2-k5_e1_g2-k3_e1_g2-k5_e1_g2-k5_e1-k5_e1-k5_e3-k5_e1-k5_e1-k3_e3-k5_e1-skip-k5_e1_g2-k5_e1_g2-k5_e1_g2-k3_e6-k5_e1_g2-k5_e6',
};

function makeFbnet(v: Variant): SearchSpace {
  const input: Chw = [3, v.resolution, v.resolution];
  const stem: OpSpec = { op: 'conv_bn_act', input, out: 16, kernel: 3, stride: v.stemStride, act: 'relu' };
  let size = convOut(v.resolution, 3, v.stemStride, 1);
  let c = 16;
  // the input of every searchable layer is fixed by the macro structure, whatever is chosen
  const slots: Array<{ input: Chw; out: number; stride: number }> = [];
  STAGE_LAYERS.forEach((n, s) => {
    for (let i = 0; i < n; i++) {
      const stride = i === 0 ? (v.stageStrides[s] as number) : 1;
      const out = STAGE_CHANNELS[s] as number;
      slots.push({ input: [c, size, size], out, stride });
      size = convOut(size, 1, stride, 0);
      c = out;
    }
  });
  const headConv: OpSpec = { op: 'conv_bn_act', input: [c, size, size], out: v.headChannels, kernel: 1, act: 'relu' };
  const logits: OpSpec = { op: 'logits', input: [v.headChannels, size, size], classes: v.classes };

  const blockSpec = (slot: (typeof slots)[number], block: FbnetCandidate): FbnetBlockSpec | null =>
    block === 'skip' && fbnetSkipIsIdentity(slot.input[0], slot.out, slot.stride)
      ? null
      : { op: 'fbnet_block', block, input: slot.input, out: slot.out, stride: slot.stride };

  const positions: Position[] = slots.map((slot, i) => ({
    name: `layer${i}`,
    choices: FBNET_CANDIDATES.map((block) => {
      const spec = blockSpec(slot, block);
      return { name: block, units: spec ? [spec] : [] };
    }),
  }));

  return defineSpace({
    name: v.name,
    summary: v.summary,
    input,
    classes: v.classes,
    positions,
    fixedUnits: [stem, headConv, logits],
    anchor: v.anchor,
    split(arch) {
      if (arch.length === 0) throw new ArchParseError(v.name, arch, 'empty architecture string');
      return arch.split('-');
    },
    join: (choices) => choices.join('-'),
    layers(choices) {
      const layers: Layer[] = [{ name: 'stem', spec: stem }];
      choices.forEach((block, i) => {
        const spec = blockSpec(slots[i] as (typeof slots)[number], block as FbnetCandidate);
        if (spec) layers.push({ name: `layer${i}`, spec });
      });
      layers.push({ name: 'head', spec: headConv }, { name: 'logits', spec: logits });
      return layers;
    },
  });
}

export const fbnet = makeFbnet(CIFAR);
export const fbnetImagenet = makeFbnet(IMAGENET);
