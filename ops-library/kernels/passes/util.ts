import type { AttrValue } from '../../onnx/import/types.ts';
import type { WNode, WorkGraph } from '../graph.ts';
import type { RuleSet } from '../rules/types.ts';

/** One graph rewrite: returns whether it changed the graph. */
export type Pass = (g: WorkGraph, rules: RuleSet) => boolean;

export const attrNum = (n: WNode, name: string, dflt: number): number => {
  const v = n.attrs[name];
  return typeof v === 'number' ? v : dflt;
};
export const attrInts = (n: WNode, name: string): readonly number[] | undefined => {
  const v = n.attrs[name];
  return Array.isArray(v) ? (v as number[]) : undefined;
};
export const setAttr = (n: WNode, name: string, v: AttrValue): void => {
  n.attrs[name] = v;
};

/** The one node reading `value`, when nothing else (graph outputs included) does. */
export function loneConsumer(g: WorkGraph, value: string): WNode | undefined {
  if (g.outputs.has(value)) return undefined;
  const cs = g.consumers(value);
  return cs.length === 1 ? cs[0] : undefined;
}

/** `keep` takes over `absorbed`'s outputs (absorbed read keep's output alone) and its source nodes. */
export function absorb(g: WorkGraph, keep: WNode, absorbed: WNode): void {
  g.remove(absorbed);
  g.setOutputs(keep, absorbed.outputs);
  keep.covers.push(...absorbed.covers);
}

/**
 * Removes a node that passes `input` through unchanged (Identity, Dropout, a no-op Add): its
 * readers read the input instead. When its output is a graph output, the input's producer is
 * renamed to it instead, if nothing else reads the input; otherwise the node stays.
 */
export function bypass(g: WorkGraph, node: WNode, input: string): boolean {
  const out = node.outputs[0] as string;
  const producer = g.producer(input);
  if (g.outputs.has(out)) {
    if (!producer || g.uses(input) !== 1) return false;
    g.remove(node);
    g.setOutputs(producer, producer.outputs.map((o) => (o === input ? out : o)));
    producer.covers.push(...node.covers);
    return true;
  }
  producer?.covers.push(...node.covers);
  g.remove(node);
  g.replaceUses(out, input);
  return true;
}

export const numel = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
export const sameShape = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);
