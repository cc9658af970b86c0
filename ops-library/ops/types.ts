import type { Activation, Lowering } from '../prim-graph.ts';
import type { Chw, Shape } from '../shape.ts';

export type FbnetCandidate = 'k3_e1' | 'k3_e1_g2' | 'k3_e3' | 'k3_e6' | 'k5_e1' | 'k5_e1_g2' | 'k5_e3' | 'k5_e6' | 'skip';
export type Nb201Edge = 'none' | 'skip_connect' | 'nor_conv_1x1' | 'nor_conv_3x3' | 'avg_pool_3x3';

/** Operator and block specs. Every spec carries its per-sample input shape. */
export interface Conv2dSpec { op: 'conv2d'; input: Chw; out: number; kernel: number; stride?: number; padding?: number; groups?: number; dilation?: number; bias?: boolean }
export interface DwConvSpec { op: 'dwconv'; input: Chw; kernel: number; stride?: number; dilation?: number }
export interface PwConvSpec { op: 'pwconv'; input: Chw; out: number; groups?: number }
export interface BatchNormSpec { op: 'batchnorm'; input: Chw }
export interface ActivationSpec { op: 'relu' | 'relu6' | 'hswish' | 'sigmoid'; input: Shape }
export interface PoolSpec { op: 'maxpool' | 'avgpool'; input: Chw; kernel: number; stride?: number; padding?: number }
export interface GlobalAvgPoolSpec { op: 'global_avgpool'; input: Chw }
export interface LinearSpec { op: 'linear'; input: readonly [number]; out: number; bias?: boolean }
export interface AddSpec { op: 'add'; input: Shape; arity?: number }
export interface ConcatSpec { op: 'concat'; input: Chw; /** channels of the further inputs (same H, W) */ channels: readonly number[] }
export interface SqueezeExciteSpec { op: 'squeeze_excite'; input: Chw; reduction?: number; gate?: 'sigmoid' | 'hsigmoid' }
export interface ChannelShuffleSpec { op: 'channel_shuffle'; input: Chw; groups: number }
/**
 * Conv → BN → activation; `name` 'Conv' / 'Conv_1' gives the ProxylessNAS/OFA LUT key. With
 * `residual`, a second input of the output's shape is added before the activation (the Conv with a
 * Sum input that ONNX Runtime's NCHWc pass makes of a Conv whose only reader is an Add).
 */
export interface ConvBnActSpec { op: 'conv_bn_act'; input: Chw; out: number; kernel: number; stride?: number; groups?: number; act?: Activation | 'none'; name?: 'Conv' | 'Conv_1'; residual?: boolean }
/** ProxylessNAS / MobileNetV2 inverted residual (MBConv) */
export interface ExpandedConvSpec { op: 'expanded_conv'; input: Chw; out: number; expand: number; kernel: number; stride: number; idskip: boolean }
export interface FbnetBlockSpec { op: 'fbnet_block'; block: FbnetCandidate; input: Chw; out: number; stride: number }
export interface Nb201OpSpec { op: 'nb201_op'; edge: Nb201Edge; input: Chw }
/** NAS-Bench-201 cell; `edges` in arch-string order: 1←0, 2←0, 2←1, 3←0, 3←1, 3←2 */
export interface Nb201CellSpec { op: 'nb201_cell'; input: Chw; edges: readonly Nb201Edge[] }
export interface Nb201ReductionSpec { op: 'nb201_reduction'; input: Chw; out: number }
export interface Nb201HeadSpec { op: 'nb201_head'; input: Chw; classes: number }
/** global average pool → linear (the ProxylessNAS `Logits` layer) */
export interface LogitsSpec { op: 'logits'; input: Chw; classes: number }
export interface BasicBlockSpec { op: 'basic_block'; input: Chw; out: number; stride: number }

export type OpSpec =
  | Conv2dSpec | DwConvSpec | PwConvSpec | BatchNormSpec | ActivationSpec | PoolSpec | GlobalAvgPoolSpec
  | LinearSpec | AddSpec | ConcatSpec | SqueezeExciteSpec | ChannelShuffleSpec | ConvBnActSpec
  | ExpandedConvSpec | FbnetBlockSpec | Nb201OpSpec | Nb201CellSpec | Nb201ReductionSpec | Nb201HeadSpec
  | LogitsSpec | BasicBlockSpec;

export type OpName = OpSpec['op'];

/** Geometry the feature vector reads; 0 where an op has no such notion. */
export interface Geometry { kernel: number; stride: number; groups: number; expand: number }

/** How one op kind validates, lowers and names itself. Registered in ops/registry.ts. */
export interface OpDef<S extends OpSpec = OpSpec> {
  readonly op: S['op'];
  readonly level: 'op' | 'block';
  readonly summary: string;
  /** throws TypeError/RangeError naming the offending field */
  validate(spec: S): void;
  /** per-sample input shapes, in input order */
  inputs(spec: S): readonly Shape[];
  /** lowers onto primitives; returns the output value */
  lower(spec: S, L: Lowering, xs: readonly number[]): number;
  /** key prefix, `<prefix>-input:…-output:…` */
  keyPrefix(spec: S): string;
  /** key parameters after input/output, in fixed order */
  keyParams(spec: S): ReadonlyArray<readonly [string, string | number]>;
  geometry(spec: S): Geometry;
}
