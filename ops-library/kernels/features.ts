import type { RuntimeKernel } from './types.ts';

/**
 * The one feature definition of a runtime kernel: what a per-kernel-type regressor sees. Detected
 * kernels (a model's prediction) and timed kernels (an agent's profile) both pass through here, so
 * the two can never disagree on a feature's meaning or order.
 */
export const KERNEL_FEATURE_NAMES = Object.freeze([
  'macs', // multiply-accumulates: convs and matrix products; else output elements
  'inputElements', // the first (data) input
  'weightElements', // every other input (weights, bias, a fused Sum's addend)
  'outputElements',
  'inChannels',
  'outChannels',
  'outSpatial', // H·W of the output (1 for non-spatial outputs)
  'kernelArea', // kh·kw (1 without kernel_shape)
  'stride',
  'groupsPerChannel', // group / in-channels: 1 for depthwise, ~0 for a dense conv
  'inputs', // number of present inputs (a Conv with a fused Sum has 4)
  'activation', // 1 when the kernel applies a fused activation
] as const);

export type KernelFeatureName = (typeof KERNEL_FEATURE_NAMES)[number];

/**
 * The features that measure a kernel's size (work and bytes moved): the ones a power law may
 * extrapolate in. The shape features (channels, kernel area, stride, …) tell kernels of one size
 * apart, but a power law in them extrapolates wildly from a type's few training shapes (13 Split
 * kernels of other models predicted ShuffleNet's 12 Splits at 20× their time).
 */
export const KERNEL_SIZE_FEATURES = Object.freeze(['macs', 'inputElements', 'weightElements', 'outputElements'] as const satisfies readonly KernelFeatureName[]);

const prod = (s: readonly number[] | undefined): number => (s && s.length > 0 ? s.reduce((a, b) => a * b, 1) : 0);
const num = (v: unknown, dflt: number): number => (typeof v === 'number' && Number.isFinite(v) ? v : dflt);
const list = (v: unknown): number[] => (Array.isArray(v) ? v.filter((x): x is number => typeof x === 'number') : []);

/** the op type without its domain: 'com.microsoft.nchwc:Conv' → 'Conv' */
export function baseOp(op: string): string {
  const i = op.lastIndexOf(':');
  return i >= 0 ? op.slice(i + 1) : op;
}

const CONV_OPS = new Set(['Conv', 'FusedConv', 'ConvTranspose', 'QLinearConv']);
const MATMUL_OPS = new Set(['MatMul', 'Gemm', 'FusedMatMul', 'FusedGemm', 'MatMulInteger']);

/**
 * Multiply-accumulates of a kernel: N·Cout·H·W·(Cin/group)·kh·kw for a convolution (NCHWc
 * blocked layouts included: their channel dims are folded into the element counts), M·N·K for a
 * matrix product, else its output elements (one operation per element).
 */
export function kernelMacs(k: RuntimeKernel): number {
  const op = baseOp(k.op);
  const out = prod(k.outputs[0]);
  if (CONV_OPS.has(op)) {
    const w = k.inputs[1];
    const o = k.outputs[0] ?? [];
    // every output element reads the weights of its channel: [Cout, Cin/group, kh, kw] gives
    // Cin/group·kh·kw; by total/channels so ORT's reordered NCHWc weight layouts count the same
    const channels = o.length >= 2 ? (o[1] as number) : (w?.[0] ?? 0);
    return w && w.length >= 2 && channels > 0 ? (out * prod(w)) / channels : out;
  }
  if (MATMUL_OPS.has(op)) {
    const a = k.inputs[0];
    const transA = num(k.attrs.transA, 0) === 1;
    const kDim = a && a.length > 0 ? (transA && a.length >= 2 ? (a[a.length - 2] as number) : (a[a.length - 1] as number)) : 1;
    return out * kDim;
  }
  return out;
}

/**
 * The feature vector of a kernel, in KERNEL_FEATURE_NAMES order (raw values; regressors take
 * log1p of them: latency scales as a power of work and bytes).
 *
 * @example
 * kernelFeatures({ op: 'Conv', attrs: { kernel_shape: [3, 3], strides: [1, 1], group: 1 }, inputs: [[1, 16, 32, 32], [32, 16, 3, 3]], outputs: [[1, 32, 32, 32]], nodes: ['c'] });
 */
export function kernelFeatures(k: RuntimeKernel): number[] {
  const data = k.inputs[0] ?? [];
  const out = k.outputs[0] ?? [];
  const inChannels = data.length >= 2 ? (data[1] as number) : 1;
  const outChannels = out.length >= 2 ? (out[1] as number) : 1;
  const outSpatial = out.length >= 3 ? prod(out.slice(2)) : 1;
  const kernelShape = list(k.attrs.kernel_shape);
  const strides = list(k.attrs.strides);
  const group = num(k.attrs.group, 1);
  const present = k.inputs.filter((s) => s.length > 0);
  const activation = typeof k.attrs.activation === 'string' && k.attrs.activation.length > 0 ? 1 : 0;
  const features: Record<KernelFeatureName, number> = {
    macs: kernelMacs(k),
    inputElements: prod(data),
    weightElements: k.inputs.slice(1).reduce((a, s) => a + prod(s), 0),
    outputElements: k.outputs.reduce((a, s) => a + prod(s), 0),
    inChannels,
    outChannels,
    outSpatial,
    kernelArea: kernelShape.length > 0 ? prod(kernelShape) : 1,
    stride: strides.length > 0 ? Math.max(...strides) : 1,
    groupsPerChannel: inChannels > 0 ? group / inChannels : 0,
    inputs: present.length,
    activation,
  };
  return KERNEL_FEATURE_NAMES.map((n) => features[n]);
}

/**
 * The regressor a kernel belongs to: its op type, with convolutions split into depthwise, dense
 * and pointwise (their cost laws differ by an order of magnitude per MAC).
 *
 * @example
 * kernelType({ op: 'com.microsoft.nchwc:Conv', attrs: { group: 32, kernel_shape: [3, 3] }, inputs: [[1, 32, 8, 8]], outputs: [[1, 32, 8, 8]], nodes: [] }); // 'com.microsoft.nchwc:Conv/depthwise'
 */
export function kernelType(k: RuntimeKernel): string {
  if (!CONV_OPS.has(baseOp(k.op))) return k.op;
  const group = num(k.attrs.group, 1);
  const w = k.inputs[1];
  const perGroupIn = w && w.length >= 2 ? (w[1] as number) : Number.NaN;
  if (group > 1 && perGroupIn === 1) return `${k.op}/depthwise`;
  const area = prod(list(k.attrs.kernel_shape));
  if (group === 1 && area === 1) return `${k.op}/pointwise`;
  return group > 1 ? `${k.op}/grouped` : `${k.op}/dense`;
}
