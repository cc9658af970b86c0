// Models of the ort-web benchmark (scripts/bench/ort-web.ts). Pure: the browser page bundles it too.
import { calibrationModel } from '../../conditions/index.ts';
import { buildOnnx, getSpace, lowerNetwork, lowerSpec } from '../../ops-library/index.ts';

export function benchModels(): Array<[string, Uint8Array]> {
  const nb201 = getSpace('nasbench201');
  return [
    ['conv3x3 16→16 @32²', buildOnnx(lowerSpec({ op: 'conv2d', input: [16, 32, 32], out: 16, kernel: 3 }))],
    ['dwconv3x3 96 @16²', buildOnnx(lowerSpec({ op: 'conv2d', input: [96, 16, 16], out: 96, kernel: 3, groups: 96 }))],
    ['conv1x1 32→64 @16²', buildOnnx(lowerSpec({ op: 'conv2d', input: [32, 16, 16], out: 64, kernel: 1 }))],
    ['linear 512→10', buildOnnx(lowerSpec({ op: 'linear', input: [512], out: 10 }))],
    ['nasbench201 net', buildOnnx(lowerNetwork(nb201.expand('|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|')))],
    ['calibration (fbnet k3_e1×22)', calibrationModel()],
  ];
}
