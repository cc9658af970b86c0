import type {
  ActivationSpec, AddSpec, BatchNormSpec, ChannelShuffleSpec, ConcatSpec, Conv2dSpec, DwConvSpec,
  GlobalAvgPoolSpec, LinearSpec, OpDef, PoolSpec, PwConvSpec, SqueezeExciteSpec,
} from './types.ts';
import { assertChw, assertPositiveInt, oneOf, optBoolean, optNonNegativeInt, optPositiveInt } from './validate.ts';

const NO_GEOMETRY = Object.freeze({ kernel: 0, stride: 0, groups: 0, expand: 0 });

export const conv2d: OpDef<Conv2dSpec> = {
  op: 'conv2d',
  level: 'op',
  summary: 'Conv2d (kernel, stride, padding, groups, dilation, optional bias)',
  validate(s) {
    assertChw(s.input, 'input');
    assertPositiveInt(s.out, 'out');
    assertPositiveInt(s.kernel, 'kernel');
    optPositiveInt(s.stride, 'stride');
    optNonNegativeInt(s.padding, 'padding');
    optPositiveInt(s.groups, 'groups');
    optPositiveInt(s.dilation, 'dilation');
    optBoolean(s.bias, 'bias');
  },
  inputs: (s) => [s.input],
  lower: (s, L, [x]) =>
    L.conv(x as number, { cout: s.out, kernel: s.kernel, stride: s.stride, padding: s.padding, groups: s.groups, dilation: s.dilation, bias: s.bias }),
  keyPrefix: () => 'conv2d',
  keyParams: (s) => [
    ['kernel', s.kernel],
    ['stride', s.stride ?? 1],
    ['groups', s.groups ?? 1],
    ['dilation', s.dilation ?? 1],
    ['padding', s.padding ?? Math.floor(((s.kernel - 1) * (s.dilation ?? 1)) / 2)],
    ['bias', s.bias ? 1 : 0],
  ],
  geometry: (s) => ({ kernel: s.kernel, stride: s.stride ?? 1, groups: s.groups ?? 1, expand: 0 }),
};

export const dwconv: OpDef<DwConvSpec> = {
  op: 'dwconv',
  level: 'op',
  summary: 'depthwise Conv2d (groups = channels), no bias',
  validate(s) {
    assertChw(s.input, 'input');
    assertPositiveInt(s.kernel, 'kernel');
    optPositiveInt(s.stride, 'stride');
    optPositiveInt(s.dilation, 'dilation');
  },
  inputs: (s) => [s.input],
  lower: (s, L, [x]) => L.conv(x as number, { cout: s.input[0], kernel: s.kernel, stride: s.stride, groups: s.input[0], dilation: s.dilation }),
  keyPrefix: () => 'dwconv',
  keyParams: (s) => [['kernel', s.kernel], ['stride', s.stride ?? 1], ['dilation', s.dilation ?? 1]],
  geometry: (s) => ({ kernel: s.kernel, stride: s.stride ?? 1, groups: s.input[0], expand: 0 }),
};

export const pwconv: OpDef<PwConvSpec> = {
  op: 'pwconv',
  level: 'op',
  summary: 'pointwise (1x1) Conv2d, optionally grouped, no bias',
  validate(s) {
    assertChw(s.input, 'input');
    assertPositiveInt(s.out, 'out');
    optPositiveInt(s.groups, 'groups');
  },
  inputs: (s) => [s.input],
  lower: (s, L, [x]) => L.conv(x as number, { cout: s.out, kernel: 1, groups: s.groups }),
  keyPrefix: () => 'pwconv',
  keyParams: (s) => [['groups', s.groups ?? 1]],
  geometry: (s) => ({ kernel: 1, stride: 1, groups: s.groups ?? 1, expand: 0 }),
};

export const batchnorm: OpDef<BatchNormSpec> = {
  op: 'batchnorm',
  level: 'op',
  summary: 'BatchNormalization (inference)',
  validate: (s) => assertChw(s.input, 'input'),
  inputs: (s) => [s.input],
  lower: (_s, L, [x]) => L.bn(x as number),
  keyPrefix: () => 'batchnorm',
  keyParams: () => [],
  geometry: () => NO_GEOMETRY,
};

function activation(op: ActivationSpec['op']): OpDef<ActivationSpec> {
  return {
    op,
    level: 'op',
    summary: `${op} activation`,
    validate(s) {
      if (!Array.isArray(s.input) || s.input.length === 0) throw new TypeError(`'input' must be a shape array, got ${JSON.stringify(s.input)}`);
      s.input.forEach((d, i) => assertPositiveInt(d, `input[${i}]`));
    },
    inputs: (s) => [s.input],
    lower: (_s, L, [x]) => L.act(x as number, op),
    keyPrefix: () => op,
    keyParams: () => [],
    geometry: () => NO_GEOMETRY,
  };
}
export const relu = activation('relu');
export const relu6 = activation('relu6');
export const hswish = activation('hswish');
export const sigmoid = activation('sigmoid');

function pool(op: PoolSpec['op']): OpDef<PoolSpec> {
  return {
    op,
    level: 'op',
    summary: `${op === 'maxpool' ? 'MaxPool' : 'AveragePool (padding not counted)'} k×k`,
    validate(s) {
      assertChw(s.input, 'input');
      assertPositiveInt(s.kernel, 'kernel');
      optPositiveInt(s.stride, 'stride');
      optNonNegativeInt(s.padding, 'padding');
    },
    inputs: (s) => [s.input],
    lower: (s, L, [x]) =>
      L.pool(x as number, op, { kernel: s.kernel, stride: s.stride ?? s.kernel, padding: s.padding ?? 0 }),
    keyPrefix: () => op,
    keyParams: (s) => [['kernel', s.kernel], ['stride', s.stride ?? s.kernel], ['padding', s.padding ?? 0]],
    geometry: (s) => ({ kernel: s.kernel, stride: s.stride ?? s.kernel, groups: 0, expand: 0 }),
  };
}
export const maxpool = pool('maxpool');
export const avgpool = pool('avgpool');

export const globalAvgpool: OpDef<GlobalAvgPoolSpec> = {
  op: 'global_avgpool',
  level: 'op',
  summary: 'GlobalAveragePool',
  validate: (s) => assertChw(s.input, 'input'),
  inputs: (s) => [s.input],
  lower: (_s, L, [x]) => L.globalAvgPool(x as number),
  keyPrefix: () => 'global_avgpool',
  keyParams: () => [],
  geometry: () => NO_GEOMETRY,
};

export const linear: OpDef<LinearSpec> = {
  op: 'linear',
  level: 'op',
  summary: 'fully connected layer (Gemm)',
  validate(s) {
    if (!Array.isArray(s.input) || s.input.length !== 1) throw new TypeError(`'input' must be [F], got ${JSON.stringify(s.input)}`);
    assertPositiveInt(s.input[0], 'input[0]');
    assertPositiveInt(s.out, 'out');
    optBoolean(s.bias, 'bias');
  },
  inputs: (s) => [s.input],
  lower: (s, L, [x]) => L.linear(x as number, { out: s.out, bias: s.bias }),
  keyPrefix: () => 'linear',
  keyParams: (s) => [['bias', s.bias === false ? 0 : 1]],
  geometry: () => NO_GEOMETRY,
};

export const add: OpDef<AddSpec> = {
  op: 'add',
  level: 'op',
  summary: 'element-wise sum of `arity` equal-shaped inputs',
  validate(s) {
    if (!Array.isArray(s.input) || s.input.length === 0) throw new TypeError(`'input' must be a shape array, got ${JSON.stringify(s.input)}`);
    s.input.forEach((d, i) => assertPositiveInt(d, `input[${i}]`));
    if (s.arity !== undefined && (!Number.isInteger(s.arity) || s.arity < 2)) throw new RangeError(`'arity' must be an integer >= 2, got ${s.arity}`);
  },
  inputs: (s) => Array.from({ length: s.arity ?? 2 }, () => s.input),
  lower: (_s, L, xs) => L.add(xs),
  keyPrefix: () => 'add',
  keyParams: (s) => [['arity', s.arity ?? 2]],
  geometry: () => NO_GEOMETRY,
};

export const concat: OpDef<ConcatSpec> = {
  op: 'concat',
  level: 'op',
  summary: 'channel concatenation of `input` and further inputs with `channels` channels',
  validate(s) {
    assertChw(s.input, 'input');
    if (!Array.isArray(s.channels) || s.channels.length === 0) throw new TypeError(`'channels' must be a non-empty array, got ${JSON.stringify(s.channels)}`);
    s.channels.forEach((c, i) => assertPositiveInt(c, `channels[${i}]`));
  },
  inputs: (s) => [s.input, ...s.channels.map((c) => [c, s.input[1], s.input[2]])],
  lower: (_s, L, xs) => L.concat(xs),
  keyPrefix: () => 'concat',
  keyParams: (s) => [['channels', s.channels.join('+')]],
  geometry: () => NO_GEOMETRY,
};

export const squeezeExcite: OpDef<SqueezeExciteSpec> = {
  op: 'squeeze_excite',
  level: 'op',
  summary: 'squeeze-excite: GAP → 1x1 reduce → ReLU → 1x1 expand → gate → scale',
  validate(s) {
    assertChw(s.input, 'input');
    optPositiveInt(s.reduction, 'reduction');
    if (s.gate !== undefined) oneOf(s.gate, ['sigmoid', 'hsigmoid'], 'gate');
  },
  inputs: (s) => [s.input],
  lower(s, L, [x]) {
    const c = s.input[0];
    const mid = Math.max(1, Math.floor(c / (s.reduction ?? 4)));
    let g = L.globalAvgPool(x as number);
    g = L.act(L.conv(g, { cout: mid, kernel: 1, bias: true }), 'relu');
    g = L.act(L.conv(g, { cout: c, kernel: 1, bias: true }), s.gate ?? 'sigmoid');
    return L.mul(x as number, g);
  },
  keyPrefix: () => 'squeeze_excite',
  keyParams: (s) => [['reduction', s.reduction ?? 4], ['gate', s.gate ?? 'sigmoid']],
  geometry: () => ({ kernel: 1, stride: 1, groups: 1, expand: 0 }),
};

export const channelShuffle: OpDef<ChannelShuffleSpec> = {
  op: 'channel_shuffle',
  level: 'op',
  summary: 'ShuffleNet channel shuffle (Reshape → Transpose → Reshape)',
  validate(s) {
    assertChw(s.input, 'input');
    assertPositiveInt(s.groups, 'groups');
  },
  inputs: (s) => [s.input],
  lower: (s, L, [x]) => L.channelShuffle(x as number, s.groups),
  keyPrefix: () => 'channel_shuffle',
  keyParams: (s) => [['groups', s.groups]],
  geometry: (s) => ({ kernel: 0, stride: 0, groups: s.groups, expand: 0 }),
};
