import type { PrimGraph, PrimNode } from './prim-graph.ts';
import { numel, type Shape } from './shape.ts';

/** Per-sample cost of a lowered graph. FLOPs count a multiply-add as 2; MACs count it as 1. */
export interface Cost {
  macs: number;
  flops: number;
  params: number;
  /** bytes read and written per sample, float32: every node's inputs + output + weights */
  memoryBytes: number;
}

const BYTES = 4;

function nodeCost(node: PrimNode, shapes: readonly Shape[]): Cost {
  const out = numel(shapes[node.output] as Shape);
  const inElems = node.inputs.reduce((a, v) => a + numel(shapes[v] as Shape), 0);
  const p = node.prim;
  let macs = 0;
  let flops = 0;
  let params = 0;
  switch (p.kind) {
    case 'conv':
      macs = out * (p.cin / p.groups) * p.kernel * p.kernel;
      params = p.cout * (p.cin / p.groups) * p.kernel * p.kernel + (p.bias ? p.cout : 0);
      flops = 2 * macs + (p.bias ? out : 0);
      break;
    case 'linear':
      macs = p.inFeatures * p.outFeatures;
      params = p.inFeatures * p.outFeatures + (p.bias ? p.outFeatures : 0);
      flops = 2 * macs + (p.bias ? p.outFeatures : 0);
      break;
    case 'batchnorm':
      // scale and shift are learned; running mean/var are buffers, as frameworks count them
      params = 2 * p.channels;
      flops = 2 * out;
      break;
    case 'act':
      flops = p.fn === 'relu' ? out : p.fn === 'relu6' ? 2 * out : 4 * out;
      break;
    case 'maxpool':
    case 'avgpool':
      flops = out * p.kernel * p.kernel;
      break;
    case 'global_avgpool':
      flops = inElems;
      break;
    case 'add':
    case 'mul':
    case 'zero':
      flops = out;
      break;
    case 'flatten':
    case 'concat':
    case 'channel_shuffle':
    case 'identity':
      break;
  }
  // views cost no traffic; everything else reads its inputs and writes its output
  const moves = p.kind === 'flatten' || p.kind === 'identity' ? 0 : inElems + out;
  return { macs, flops, params, memoryBytes: BYTES * (moves + params) };
}

/** Sums the cost of every node of a lowered graph. */
export function graphCost(graph: PrimGraph): Cost {
  const total: Cost = { macs: 0, flops: 0, params: 0, memoryBytes: 0 };
  for (const node of graph.nodes) {
    const c = nodeCost(node, graph.shapes);
    total.macs += c.macs;
    total.flops += c.flops;
    total.params += c.params;
    total.memoryBytes += c.memoryBytes;
  }
  return total;
}
