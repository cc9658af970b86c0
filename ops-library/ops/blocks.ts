import { ACTIVATIONS } from '../prim-graph.ts';
import { convOut, type Chw } from '../shape.ts';
import type { BasicBlockSpec, ConvBnActSpec, ExpandedConvSpec, LogitsSpec, OpDef } from './types.ts';
import { assertChw, assertPositiveInt, oneOf, optActivation, optBoolean, optPositiveInt } from './validate.ts';

/** the output shape of a conv_bn_act (same padding: ⌊k/2⌋), which its residual input must have */
function convBnActOutput(s: ConvBnActSpec): Chw {
  const stride = s.stride ?? 1;
  const pad = Math.floor((s.kernel - 1) / 2);
  return [s.out, convOut(s.input[1], s.kernel, stride, pad), convOut(s.input[2], s.kernel, stride, pad)];
}

/**
 * The ProxylessNAS/OFA LUT names two fixed layers by name; a named conv_bn_act must be exactly
 * that layer, so that a key always denotes one computation.
 */
const NAMED_CONV = Object.freeze({
  Conv: Object.freeze({ kernel: 3, act: 'relu6' }),
  Conv_1: Object.freeze({ kernel: 1, act: 'relu6' }),
});

export const convBnAct: OpDef<ConvBnActSpec> = {
  op: 'conv_bn_act',
  level: 'block',
  summary: "Conv (no bias) → BN → activation; name 'Conv'/'Conv_1' = the ProxylessNAS LUT layers",
  validate(s) {
    assertChw(s.input, 'input');
    assertPositiveInt(s.out, 'out');
    assertPositiveInt(s.kernel, 'kernel');
    optPositiveInt(s.stride, 'stride');
    optPositiveInt(s.groups, 'groups');
    optActivation(s.act, 'act');
    optBoolean(s.residual, 'residual');
    if (s.name !== undefined) {
      oneOf(s.name, Object.keys(NAMED_CONV) as Array<keyof typeof NAMED_CONV>, 'name');
      const want = NAMED_CONV[s.name];
      if (s.kernel !== want.kernel || (s.act ?? 'relu') !== want.act || (s.groups ?? 1) !== 1 || s.residual) {
        throw new RangeError(`conv_bn_act named '${s.name}' must have kernel ${want.kernel}, act ${want.act}, groups 1, no residual`);
      }
    }
  },
  inputs: (s) => (s.residual ? [s.input, convBnActOutput(s)] : [s.input]),
  lower(s, L, [x, r]) {
    const y = L.bn(L.conv(x as number, { cout: s.out, kernel: s.kernel, stride: s.stride, groups: s.groups }));
    return L.act(s.residual ? L.add([y, r as number]) : y, s.act ?? 'relu');
  },
  keyPrefix: (s) => s.name ?? 'conv_bn_act',
  keyParams: (s) =>
    s.name !== undefined
      ? []
      : [['kernel', s.kernel], ['stride', s.stride ?? 1], ['groups', s.groups ?? 1], ['act', s.act ?? 'relu'], ...(s.residual ? [['residual', 1] as const] : [])],
  geometry: (s) => ({ kernel: s.kernel, stride: s.stride ?? 1, groups: s.groups ?? 1, expand: 0 }),
};

export const expandedConv: OpDef<ExpandedConvSpec> = {
  op: 'expanded_conv',
  level: 'block',
  summary: 'ProxylessNAS/MobileNetV2 inverted residual (MBConv): expand, kernel, stride, identity skip',
  validate(s) {
    assertChw(s.input, 'input');
    assertPositiveInt(s.out, 'out');
    assertPositiveInt(s.expand, 'expand');
    assertPositiveInt(s.kernel, 'kernel');
    assertPositiveInt(s.stride, 'stride');
    if (typeof s.idskip !== 'boolean') throw new TypeError(`'idskip' must be a boolean, got ${JSON.stringify(s.idskip)}`);
    if (s.idskip && (s.stride !== 1 || s.input[0] !== s.out)) {
      throw new RangeError(`'idskip' needs stride 1 and equal channels, got stride ${s.stride}, ${s.input[0]}→${s.out}`);
    }
  },
  inputs: (s) => [s.input],
  lower(s, L, [x]) {
    let y = x as number;
    // ProxylessNAS: feature_dim = round(in_channels * expand_ratio); expand 1 has no 1x1 expansion
    const mid = Math.round(s.input[0] * s.expand);
    if (s.expand !== 1) y = L.act(L.bn(L.conv(y, { cout: mid, kernel: 1 })), 'relu6');
    y = L.act(L.bn(L.conv(y, { cout: mid, kernel: s.kernel, stride: s.stride, groups: mid })), 'relu6');
    y = L.bn(L.conv(y, { cout: s.out, kernel: 1 }));
    return s.idskip ? L.add([y, x as number]) : y;
  },
  keyPrefix: () => 'expanded_conv',
  keyParams: (s) => [['expand', s.expand], ['kernel', s.kernel], ['stride', s.stride], ['idskip', s.idskip ? 1 : 0]],
  geometry: (s) => ({ kernel: s.kernel, stride: s.stride, groups: 1, expand: s.expand }),
};

export const logits: OpDef<LogitsSpec> = {
  op: 'logits',
  level: 'block',
  summary: 'global average pool → linear (the ProxylessNAS `Logits` layer)',
  validate(s) {
    assertChw(s.input, 'input');
    assertPositiveInt(s.classes, 'classes');
  },
  inputs: (s) => [s.input],
  lower: (s, L, [x]) => L.linear(L.flatten(L.globalAvgPool(x as number)), { out: s.classes }),
  keyPrefix: () => 'Logits',
  keyParams: () => [],
  geometry: () => ({ kernel: 0, stride: 0, groups: 0, expand: 0 }),
};

export const basicBlock: OpDef<BasicBlockSpec> = {
  op: 'basic_block',
  level: 'block',
  summary: 'ResNet basic block: 3x3 conv-BN-ReLU, 3x3 conv-BN, shortcut (1x1 conv-BN when shape changes), add, ReLU',
  validate(s) {
    assertChw(s.input, 'input');
    assertPositiveInt(s.out, 'out');
    assertPositiveInt(s.stride, 'stride');
  },
  inputs: (s) => [s.input],
  lower(s, L, [x]) {
    const a = L.act(L.bn(L.conv(x as number, { cout: s.out, kernel: 3, stride: s.stride })), 'relu');
    const b = L.bn(L.conv(a, { cout: s.out, kernel: 3 }));
    const short = s.stride !== 1 || s.input[0] !== s.out ? L.bn(L.conv(x as number, { cout: s.out, kernel: 1, stride: s.stride })) : (x as number);
    return L.act(L.add([b, short]), 'relu');
  },
  keyPrefix: () => 'basic_block',
  keyParams: (s) => [['stride', s.stride]],
  geometry: (s) => ({ kernel: 3, stride: s.stride, groups: 1, expand: 0 }),
};

export { ACTIVATIONS };
