import type { AttrValue } from '../onnx/import/types.ts';
import { baseOp } from './features.ts';

type Attrs = Record<string, AttrValue>;

/** ONNX's (and ORT's contrib ops') attribute defaults, by op without its domain */
const DEFAULTS: Readonly<Record<string, Attrs>> = {
  MaxPool: { ceil_mode: 0, storage_order: 0 },
  AveragePool: { ceil_mode: 0, count_include_pad: 0 },
  Gemm: { alpha: 1, beta: 1, transA: 0, transB: 0 },
  FusedGemm: { alpha: 1, beta: 1, transA: 0, transB: 0 },
  FusedMatMul: { alpha: 1, transA: 0, transB: 0, transBatchA: 0, transBatchB: 0 },
  Flatten: { axis: 1 },
  Softmax: { axis: -1 },
  LayerNormalization: { axis: -1, epsilon: 1e-5, stash_type: 1 },
  SimplifiedLayerNormalization: { axis: -1, epsilon: 1e-5, stash_type: 1 },
  Reshape: { allowzero: 0 },
  Split: { axis: 0 },
  ReorderInput: { channels_last: 0 },
  ReorderOutput: { channels_last: 0 },
  QuickGelu: { alpha: 1.702 },
  LeakyRelu: { alpha: 0.01 },
  HardSigmoid: { alpha: 0.2, beta: 0.5 },
  ReduceMean: { keepdims: 1 },
  Elu: { alpha: 1 },
  BatchNormalization: { epsilon: Math.fround(1e-5), momentum: Math.fround(0.9), training_mode: 0 },
};

const CONVS = new Set(['Conv', 'FusedConv', 'ConvTranspose']);
const POOLS = new Set(['MaxPool', 'AveragePool']);

/**
 * A kernel's attributes with the defaults filled in, so that two descriptions of one kernel
 * compare equal however they were written: ORT keeps a node's attributes as the model spelled
 * them (a Conv from a BatchNormalization has none but `group`), kernel detection writes them all.
 * Conv-like kernels get kernel_shape (from the weights), strides, pads, dilations and group;
 * pools their window; auto_pad is dropped (the importer resolves it into pads).
 */
export function normaliseAttrs(op: string, attrs: Readonly<Attrs>, weightShape?: readonly number[]): Attrs {
  const base = baseOp(op);
  const out: Attrs = { ...(DEFAULTS[base] ?? {}), ...attrs };
  if (out.auto_pad === 'NOTSET' || out.auto_pad === '') delete out.auto_pad;
  if (CONVS.has(base) || POOLS.has(base)) {
    const kernel = (out.kernel_shape as number[] | undefined) ?? (weightShape ? weightShape.slice(2) : undefined);
    if (kernel) {
      const n = kernel.length;
      out.kernel_shape = [...kernel];
      out.strides ??= new Array<number>(n).fill(1);
      out.pads ??= new Array<number>(2 * n).fill(0);
      if (CONVS.has(base) || base === 'MaxPool') out.dilations ??= new Array<number>(n).fill(1);
    }
    if (CONVS.has(base)) out.group ??= 1;
  }
  if (typeof out.activation_params === 'object') out.activation_params = (out.activation_params as number[]).map((v) => Math.fround(v));
  return out;
}
