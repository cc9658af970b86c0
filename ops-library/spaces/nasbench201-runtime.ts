import type { Layer } from '../graph.ts';
import { optimise } from '../kernels/detect.ts';
import type { WNode, WorkGraph } from '../kernels/graph.ts';
import type { RuleSet } from '../kernels/rules/types.ts';
import { importNetwork } from '../onnx/import/network.ts';
import type { Chw } from '../shape.ts';

/**
 * What a runtime's graph optimiser (by default ONNX Runtime 1.30's CPU EP, level 'all') makes of a
 * NAS-Bench-201 network, in the terms the space's LUT units use. This is kernel detection itself
 * (ops-library/kernels: the one pass every model goes through) applied to the network's IR; this
 * file only names each kernel for the units: measured per network, a cell's cost depends on how
 * its edges combine — CSE of pools, ReLUs, zeros and Adds of the same values (across cells, through
 * skip edges), Conv+ReLU fusion, BN folding, the NCHWc layout with Conv+Add Sum fusion, reorders
 * around the zero (Mul by 0) nodes that stay in plain NCHW — and detection decides all of it.
 */
export interface Nb201Kernel {
  kind: 'conv' | 'dwconv' | 'bn' | 'relu' | 'add' | 'zero' | 'pool' | 'gap' | 'reorder_in' | 'reorder_out';
  stage: number;
  /** outside the cells (stem, reductions, head): what the space's fixed units already hold */
  fixed: boolean;
  /** conv and pool */
  kernel?: number;
  stride?: number;
  /** a Conv's fused activation and Sum input */
  act?: boolean;
  sum?: boolean;
}

const KIND: Readonly<Record<string, Nb201Kernel['kind']>> = {
  Relu: 'relu', Add: 'add', Mul: 'zero', AveragePool: 'pool', GlobalAveragePool: 'gap', BatchNormalization: 'bn', ReorderInput: 'reorder_in', ReorderOutput: 'reorder_out',
};
const IGNORED = new Set(['Flatten', 'Gemm']);
const bare = (op: string) => op.slice(op.lastIndexOf(':') + 1);

/** stage of a [N, C, H, W] feature map of the 32×32 CIFAR network: 32 → 0, 16 → 1, 8 → 2 (the head's 1×1: the last) */
const stageOf = (s: readonly number[], input: Chw, last: number): number => Math.min(last, Math.round(Math.log2(input[1] / (s[2] as number))));

function describe(g: WorkGraph, n: WNode, input: Chw, last: number): Nb201Kernel | null {
  const op = bare(n.op);
  if (IGNORED.has(op)) return null;
  // a reorder belongs where the tensor it converts was made; a kernel to the layer of its main source node
  const home = op.startsWith('Reorder') ? g.producer(n.inputs[0] as string) : n;
  const layer = (home?.covers[0] ?? 'stem/').split('/')[0] as string;
  const fixed = !layer.startsWith('cell');
  const out = g.shape(n.outputs[0] as string);
  const stage = stageOf(out, input, last);
  if (op === 'Conv' || op === 'FusedConv') {
    const act = n.attrs.activation !== undefined;
    const sum = Boolean(n.inputs[3]);
    const c = g.shape(n.inputs[0] as string)[1];
    if (n.attrs.kernel_shape === undefined && n.attrs.group === c) return { kind: 'dwconv', stage, fixed, act, sum };
    const kernel = (n.attrs.kernel_shape as number[] | undefined)?.[0] ?? 1;
    const stride = (n.attrs.strides as number[] | undefined)?.[0] ?? 1;
    return { kind: 'conv', stage, fixed, kernel, stride, act, sum };
  }
  const kind = KIND[op];
  if (!kind) throw new Error(`NAS-Bench-201 units: kernel detection gave an unexpected ${n.op} kernel '${n.name}'`);
  if (kind === 'pool') {
    return { kind, stage, fixed, kernel: (n.attrs.kernel_shape as number[])[0] as number, stride: (n.attrs.strides as number[] | undefined)?.[0] ?? 1 };
  }
  return { kind, stage, fixed };
}

const cache = new Map<string, readonly Nb201Kernel[]>();
const CACHE_LIMIT = 20_000;

/**
 * The kernels a runtime runs for a NAS-Bench-201 network given as its layers (the space's
 * `expand(arch).layers`), each with its stage and whether it lies outside the cells. Detection
 * runs once per network and runtime (cached: the space has 15,625 networks).
 */
export function nb201RuntimeKernels(layers: readonly Layer[], input: Chw, rules: string | RuleSet = 'ort-cpu'): readonly Nb201Kernel[] {
  const key = `${typeof rules === 'string' ? rules : rules.runtime}|${layers.map((l) => JSON.stringify(l.spec)).join(';')}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const g = optimise(importNetwork({ space: 'nasbench201', arch: '', input, layers }), rules);
  const last = stageOf([1, 1, (layers[layers.length - 1]?.spec.input as Chw)[1]], input, Infinity);
  const kernels = Object.freeze(g.nodes.flatMap((n) => describe(g, n, input, last) ?? []).map((k) => Object.freeze(k)));
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(key, kernels);
  return kernels;
}
