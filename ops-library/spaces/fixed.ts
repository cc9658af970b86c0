import { ArchParseError } from '../errors.ts';
import type { Layer } from '../graph.ts';
import type { OpSpec } from '../ops/types.ts';
import type { Chw } from '../shape.ts';
import { convOut } from '../shape.ts';
import { defineSpace } from './define.ts';
import type { SearchSpace } from './types.ts';

/** A fixed network as a space with no positions; its arch string is its name (or empty). */
function fixedNet(name: string, summary: string, input: Chw, classes: number, layers: Layer[]): SearchSpace {
  return defineSpace({
    name,
    summary,
    input,
    classes,
    positions: [],
    fixedUnits: layers.map((l) => l.spec),
    split(arch) {
      if (arch !== '' && arch !== name) throw new ArchParseError(name, arch, `a fixed network's arch is '${name}' (or empty)`);
      return [];
    },
    join: () => name,
    layers: () => layers,
  });
}

function mobilenetV2Layers(): Layer[] {
  const layers: Layer[] = [{ name: 'Conv', spec: { op: 'conv_bn_act', name: 'Conv', input: [3, 224, 224], out: 32, kernel: 3, stride: 2, act: 'relu6' } }];
  // (expand t, channels c, repeats n, stride s) from the MobileNetV2 paper, table 2
  const cfg = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1]] as const;
  let c = 32;
  let size = 112;
  let k = 0;
  for (const [t, out, n, s] of cfg) {
    for (let i = 0; i < n; i++) {
      const stride = i === 0 ? s : 1;
      const spec: OpSpec = { op: 'expanded_conv', input: [c, size, size], out, expand: t, kernel: 3, stride, idskip: stride === 1 && c === out };
      layers.push({ name: `block${k++}`, spec });
      size = convOut(size, 3, stride, 1);
      c = out;
    }
  }
  layers.push(
    { name: 'Conv_1', spec: { op: 'conv_bn_act', name: 'Conv_1', input: [320, size, size], out: 1280, kernel: 1, act: 'relu6' } },
    { name: 'Logits', spec: { op: 'logits', input: [1280, size, size], classes: 1000 } },
  );
  return layers;
}

function resnet18Layers(): Layer[] {
  const layers: Layer[] = [
    { name: 'stem', spec: { op: 'conv_bn_act', input: [3, 224, 224], out: 64, kernel: 7, stride: 2, act: 'relu' } },
    { name: 'maxpool', spec: { op: 'maxpool', input: [64, 112, 112], kernel: 3, stride: 2, padding: 1 } },
  ];
  let c = 64;
  let size = 56;
  [64, 128, 256, 512].forEach((out, s) => {
    for (let i = 0; i < 2; i++) {
      const stride = i === 0 && s > 0 ? 2 : 1;
      layers.push({ name: `layer${s + 1}.${i}`, spec: { op: 'basic_block', input: [c, size, size], out, stride } });
      size = convOut(size, 3, stride, 1);
      c = out;
    }
  });
  layers.push({ name: 'fc', spec: { op: 'logits', input: [512, size, size], classes: 1000 } });
  return layers;
}

export const mobilenetv2 = fixedNet('mobilenetv2', 'MobileNetV2 1.0, 224x224, 1000 classes', [3, 224, 224], 1000, mobilenetV2Layers());
export const resnet18 = fixedNet('resnet18', 'ResNet-18, 224x224, 1000 classes', [3, 224, 224], 1000, resnet18Layers());
