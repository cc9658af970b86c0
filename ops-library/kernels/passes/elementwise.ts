import type { WNode, WorkGraph } from '../graph.ts';
import { absorb, loneConsumer, type Pass } from './util.ts';

const scalarValue = (g: WorkGraph, name: string | undefined): number | undefined => {
  const v = name ? g.values.get(name) : undefined;
  return v?.constant && v.data?.length === 1 ? v.data[0] : undefined;
};
const near = (a: number | undefined, b: number) => a !== undefined && Math.abs(a - b) < 1e-4 * Math.max(1, Math.abs(b));
const otherInput = (n: WNode, x: string) => (n.inputs[0] === x ? n.inputs[1] : n.inputs[0]);

/** x · Sigmoid(x) (SiLU/Swish), Sigmoid read by nothing else: com.microsoft:QuickGelu(alpha 1) */
export const fuseQuickGelu: Pass = (g) => {
  let changed = false;
  for (const sig of [...g.nodes]) {
    if (!g.alive(sig) || sig.op !== 'Sigmoid') continue;
    const x = sig.inputs[0] as string;
    const mul = loneConsumer(g, sig.outputs[0] as string);
    if (!mul || mul.op !== 'Mul' || otherInput(mul, sig.outputs[0] as string) !== x) continue;
    const q: WNode = { name: `${mul.name}_QuickGelu`, op: 'com.microsoft:QuickGelu', attrs: { alpha: 1 }, inputs: [x], outputs: [...mul.outputs], covers: [...sig.covers, ...mul.covers] };
    g.insertBefore(mul, q);
    g.remove(sig, mul);
    changed = true;
  }
  return changed;
};

/** the erf form of GELU, 0.5 · x · (1 + erf(x / √2)), as exporters write it: com.microsoft:Gelu */
export const fuseGelu: Pass = (g) => {
  let changed = false;
  for (const div of [...g.nodes]) {
    if (!g.alive(div)) continue;
    const x = div.inputs[0] as string;
    const scaledBy = div.op === 'Div' ? scalarValue(g, div.inputs[1]) : div.op === 'Mul' ? scalarValue(g, div.inputs[1]) : undefined;
    if (!(div.op === 'Div' && near(scaledBy, Math.SQRT2)) && !(div.op === 'Mul' && near(scaledBy, Math.SQRT1_2))) continue;
    const erf = loneConsumer(g, div.outputs[0] as string);
    if (!erf || erf.op !== 'Erf') continue;
    const add = loneConsumer(g, erf.outputs[0] as string);
    if (!add || add.op !== 'Add' || !near(scalarValue(g, otherInput(add, erf.outputs[0] as string)), 1)) continue;
    const mul1 = loneConsumer(g, add.outputs[0] as string);
    if (!mul1 || mul1.op !== 'Mul') continue;
    // (x · (1 + erf)) · 0.5, or (0.5 · x) · (1 + erf)
    let last: WNode | undefined;
    const covers = [...div.covers, ...erf.covers, ...add.covers, ...mul1.covers];
    const removed: WNode[] = [div, erf, add, mul1];
    const m1other = otherInput(mul1, add.outputs[0] as string) as string;
    if (m1other === x) {
      const mul2 = loneConsumer(g, mul1.outputs[0] as string);
      if (!mul2 || mul2.op !== 'Mul' || !near(scalarValue(g, otherInput(mul2, mul1.outputs[0] as string)), 0.5)) continue;
      last = mul2;
    } else {
      const half = g.producer(m1other);
      if (!half || half.op !== 'Mul' || otherInput(half, x) === undefined || !half.inputs.includes(x) || !near(scalarValue(g, otherInput(half, x)), 0.5) || g.uses(m1other) !== 1) continue;
      removed.push(half);
      covers.unshift(...half.covers);
      last = mul1;
    }
    if (last !== mul1) {
      covers.push(...last.covers);
      removed.push(last);
    }
    const gelu: WNode = { name: `${last.name}_Gelu`, op: 'com.microsoft:Gelu', attrs: {}, inputs: [x], outputs: [...last.outputs], covers };
    g.insertBefore(last, gelu);
    g.remove(...removed);
    changed = true;
  }
  return changed;
};

/**
 * Slices of one tensor along one axis, step 1, that together cover it end to end: one Split
 * (ORT's GatherSliceToSplitFusion, for opset 13 and later), with the split sizes as a constant input.
 */
export const fuseSliceToSplit: Pass = (g) => {
  // the fusion matches Slice-13 (and makes Split-13, whose sizes are an input)
  if (g.opset < 13) return false;
  let changed = false;
  const byInput = new Map<string, WNode[]>();
  for (const n of g.nodes) if (n.op === 'Slice') byInput.set(n.inputs[0] as string, [...(byInput.get(n.inputs[0] as string) ?? []), n]);
  for (const [x, slices] of byInput) {
    if (slices.length < 2) continue;
    const shape = g.shape(x);
    const parts: Array<{ node: WNode; axis: number; start: number; count: number }> = [];
    for (const s of slices) {
      const starts = g.values.get(s.inputs[1] ?? '')?.data;
      const axes = s.inputs[3] ? g.values.get(s.inputs[3])?.data : [0];
      const steps = s.inputs[4] ? g.values.get(s.inputs[4])?.data : [1];
      if (!starts || !axes || !steps || starts.length !== 1 || steps[0] !== 1) break;
      const axis = (axes[0] as number) < 0 ? (axes[0] as number) + shape.length : (axes[0] as number);
      const dim = shape[axis] as number;
      const start = Math.min(Math.max((starts[0] as number) < 0 ? (starts[0] as number) + dim : (starts[0] as number), 0), dim);
      parts.push({ node: s, axis, start, count: g.shape(s.outputs[0] as string)[axis] as number });
    }
    if (parts.length !== slices.length || !parts.every((p) => p.axis === parts[0]?.axis)) continue;
    parts.sort((p, q) => p.start - q.start);
    const axis = parts[0]?.axis as number;
    let at = 0;
    const contiguous = parts.every((p) => {
      const ok = p.start === at && p.count > 0;
      at += p.count;
      return ok;
    });
    if (!contiguous || at !== shape[axis]) continue;
    const sizes = g.addConstant('split', [parts.length], { dtype: 'int64', data: parts.map((p) => p.count) });
    const first = parts.map((p) => g.nodes.indexOf(p.node)).reduce((a, b) => Math.min(a, b));
    const split: WNode = {
      name: `${parts[0]?.node.name}_split`, op: 'Split', attrs: { axis }, inputs: [x, sizes],
      outputs: parts.map((p) => p.node.outputs[0] as string), covers: parts.flatMap((p) => p.node.covers),
    };
    g.insertBefore(g.nodes[first] as WNode, split);
    g.remove(...parts.map((p) => p.node));
    changed = true;
  }
  return changed;
};

export { absorb };
