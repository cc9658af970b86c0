import type { WNode, WorkGraph } from '../graph.ts';
import { attrInts, attrNum, loneConsumer, numel, type Pass } from './util.ts';

const scalar = (g: WorkGraph, v: string | undefined): number | undefined => {
  const c = v ? g.values.get(v) : undefined;
  return c?.constant && c.data && numel(c.shape) === 1 ? c.data[0] : undefined;
};
const other = (n: WNode, v: string) => (n.inputs[0] === v ? n.inputs[1] : n.inputs[0]) as string;

/** ReduceMean over trailing axes with keepdims; returns its axes (negative, from the end), or null */
function trailingMean(g: WorkGraph, n: WNode | undefined, x: string): number[] | null {
  if (!n || n.op !== 'ReduceMean' || n.inputs[0] !== x || attrNum(n, 'keepdims', 1) !== 1) return null;
  const rank = g.shape(x).length;
  const raw = g.opset >= 18 ? (n.inputs[1] ? g.values.get(n.inputs[1])?.data : undefined) : attrInts(n, 'axes');
  if (!raw || raw.length === 0) return null;
  const axes = raw.map((a) => (a < 0 ? a : a - rank)).sort((a, b) => a - b);
  return axes.every((a, i) => a === i - axes.length) ? axes : null;
}

/**
 * the variance half of a normalisation: d → Pow(d, 2) → ReduceMean → Add(ε) → Sqrt → Div(d, ·)
 * → Mul(γ); returns the nodes and values, or null
 */
function normalisePattern(g: WorkGraph, d: string, axesWanted: readonly number[] | null) {
  const readers = g.consumers(d);
  const pow = readers.find((n) => n.op === 'Pow' && n.inputs[0] === d && scalar(g, n.inputs[1]) === 2);
  const div = readers.find((n) => n.op === 'Div' && n.inputs[0] === d);
  if (!pow || !div) return null;
  const mean = loneConsumer(g, pow.outputs[0] as string);
  const axes = trailingMean(g, mean, pow.outputs[0] as string);
  if (!mean || !axes || (axesWanted && axes.join() !== axesWanted.join())) return null;
  const add = loneConsumer(g, mean.outputs[0] as string);
  const eps = add?.op === 'Add' ? scalar(g, other(add, mean.outputs[0] as string)) : undefined;
  if (!add || eps === undefined) return null;
  const sqrt = loneConsumer(g, add.outputs[0] as string);
  if (!sqrt || sqrt.op !== 'Sqrt' || loneConsumer(g, sqrt.outputs[0] as string) !== div || div.inputs[1] !== sqrt.outputs[0]) return null;
  const mul = loneConsumer(g, div.outputs[0] as string);
  const gamma = mul?.op === 'Mul' ? other(mul, div.outputs[0] as string) : undefined;
  if (!mul || !gamma || !g.isConstant(gamma)) return null;
  return { pow, mean, add, sqrt, div, mul, gamma, eps, axes };
}

/**
 * The decomposed LayerNorm exporters write before opset 17 — mean, centre, variance, normalise,
 * scale, shift — as one LayerNormalization (ORT's LayerNormFusion).
 */
export const fuseLayerNorm: Pass = (g) => {
  let changed = false;
  for (const mean of [...g.nodes]) {
    if (!g.alive(mean) || mean.op !== 'ReduceMean') continue;
    const x = mean.inputs[0] as string;
    const axes = trailingMean(g, mean, x);
    const sub = axes ? loneConsumer(g, mean.outputs[0] as string) : undefined;
    if (!axes || !sub || sub.op !== 'Sub' || sub.inputs[0] !== x || sub.inputs[1] !== mean.outputs[0]) continue;
    const d = sub.outputs[0] as string;
    if (g.uses(d) !== 2) continue;
    const p = normalisePattern(g, d, axes);
    if (!p) continue;
    const shift = loneConsumer(g, p.mul.outputs[0] as string);
    const beta = shift?.op === 'Add' ? other(shift, p.mul.outputs[0] as string) : undefined;
    if (!shift || !beta || !g.isConstant(beta)) continue;
    const parts = [mean, sub, p.pow, p.mean, p.add, p.sqrt, p.div, p.mul, shift];
    const ln: WNode = {
      name: `${shift.name}_LayerNorm`, op: 'LayerNormalization', attrs: { axis: p.axes[0] as number, epsilon: Math.fround(p.eps), stash_type: 1 },
      inputs: [x, p.gamma, beta], outputs: [...shift.outputs], covers: parts.flatMap((n) => n.covers),
    };
    g.insertBefore(shift, ln);
    g.remove(...parts);
    changed = true;
  }
  return changed;
};

/** the variance half alone, x / √(mean(x²) + ε) · γ: SimplifiedLayerNormalization (RMS norm; ORT's SimplifiedLayerNormFusion) */
export const fuseSimplifiedLayerNorm: Pass = (g) => {
  let changed = false;
  for (const pow of [...g.nodes]) {
    if (!g.alive(pow) || pow.op !== 'Pow') continue;
    const x = pow.inputs[0] as string;
    if (g.uses(x) !== 2) continue;
    const p = normalisePattern(g, x, null);
    if (!p || p.pow !== pow) continue;
    const parts = [p.pow, p.mean, p.add, p.sqrt, p.div, p.mul];
    const ln: WNode = {
      name: `${p.mul.name}_SimplifiedLayerNorm`, op: 'SimplifiedLayerNormalization', attrs: { axis: p.axes[0] as number, epsilon: Math.fround(p.eps), stash_type: 1 },
      inputs: [x, p.gamma], outputs: [...p.mul.outputs], covers: parts.flatMap((n) => n.covers),
    };
    g.insertBefore(p.mul, ln);
    g.remove(...parts);
    changed = true;
  }
  return changed;
};
