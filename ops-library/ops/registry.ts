import { lookup } from '../errors.ts';
import * as blocks from './blocks.ts';
import { fbnetBlock } from './fbnet.ts';
import { nb201Cell, nb201Head, nb201Op, nb201Reduction } from './nasbench201.ts';
import * as p from './layers.ts';
import type { OpDef, OpName, OpSpec } from './types.ts';

const defs: OpDef<any>[] = [
  p.conv2d, p.dwconv, p.pwconv, p.batchnorm, p.relu, p.relu6, p.hswish, p.sigmoid, p.maxpool, p.avgpool,
  p.globalAvgpool, p.linear, p.add, p.concat, p.squeezeExcite, p.channelShuffle,
  blocks.convBnAct, blocks.expandedConv, blocks.logits, blocks.basicBlock,
  fbnetBlock, nb201Op, nb201Cell, nb201Reduction, nb201Head,
];

/** Every operator and block hwlat can build, by name. Frozen: registering happens here only. */
export const OPS: Readonly<Record<OpName, OpDef<any>>> = Object.freeze(
  Object.fromEntries(defs.map((d) => [d.op, Object.freeze(d)])) as Record<OpName, OpDef<any>>,
);

/** The definition of `op`; an unknown name throws UnknownKeyError listing the known ones. */
export function opDef<S extends OpSpec>(op: S['op'] | string): OpDef<S> {
  return lookup(OPS as Record<string, OpDef<any>>, 'op', op) as OpDef<S>;
}

/**
 * Checks that `spec` is a well-formed spec of a known op; throws a typed error naming the field.
 * Accepts `unknown` so JSON from users can be checked before it is trusted.
 */
export function validateSpec(spec: unknown): asserts spec is OpSpec {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) {
    throw new TypeError(`an op spec must be an object with an 'op' field, got ${JSON.stringify(spec)}`);
  }
  const op = (spec as { op?: unknown }).op;
  if (typeof op !== 'string') throw new TypeError(`an op spec needs a string 'op' field, got ${JSON.stringify(op)}`);
  opDef(op).validate(spec as OpSpec);
}
