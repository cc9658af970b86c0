import { graphCost } from './cost.ts';
import { lowerSpec } from './graph.ts';
import { opDef } from './ops/registry.ts';
import type { OpSpec } from './ops/types.ts';
import type { Shape } from './shape.ts';

/**
 * The one feature definition: the LUT key, the profiler's job, the regressors and the predictor
 * all turn a spec into numbers here, in this order. FLOPs count a multiply-add as 2.
 */
export const FEATURE_NAMES = Object.freeze([
  'inH', 'inW', 'inC', 'outH', 'outW', 'outC', 'kernel', 'stride', 'groups', 'expand',
  'macs', 'flops', 'params', 'memoryBytes',
] as const);
export type FeatureName = (typeof FEATURE_NAMES)[number];
export type Features = Readonly<Record<FeatureName, number>>;

function hwc(shape: Shape): [h: number, w: number, c: number] {
  // flat [F] vectors are 1x1xF
  return shape.length === 3 ? [shape[1] as number, shape[2] as number, shape[0] as number] : [1, 1, shape.reduce((a, b) => a * b, 1)];
}

/**
 * Features of one op or block spec (per sample).
 *
 * @example
 * features({ op: 'conv2d', input: [16, 32, 32], out: 32, kernel: 3 }).macs // 16*32*32*32*9
 */
export function features(spec: OpSpec): Features {
  const graph = lowerSpec(spec);
  const def = opDef(spec.op);
  const cost = graphCost(graph);
  const ins = def.inputs(spec);
  const [inH, inW] = hwc(ins[0] as Shape);
  const inC = ins.reduce((a, s) => a + hwc(s)[2], 0);
  const [outH, outW, outC] = hwc(graph.shapes[graph.output] as Shape);
  const g = def.geometry(spec);
  return Object.freeze({
    inH, inW, inC, outH, outW, outC,
    kernel: g.kernel, stride: g.stride, groups: g.groups, expand: g.expand,
    macs: cost.macs, flops: cost.flops, params: cost.params, memoryBytes: cost.memoryBytes,
  });
}

/** features(spec) as a vector in FEATURE_NAMES order. */
export function featureVector(spec: OpSpec): number[] {
  const f = features(spec);
  return FEATURE_NAMES.map((n) => f[n]);
}
