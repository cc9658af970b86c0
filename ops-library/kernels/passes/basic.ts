import type { WNode, WorkGraph } from '../graph.ts';
import { absorb, attrNum, bypass, loneConsumer, numel, sameShape, type Pass } from './util.ts';

/** ONNX function operators with no kernel become their function body (HardSwish(x) = x · HardSigmoid(x; 1/6, 1/2)). */
export const inlineFunctions: Pass = (g, rules) => {
  let changed = false;
  for (const n of [...g.nodes]) {
    if (n.op !== 'HardSwish' || !rules.inlined.includes('HardSwish')) continue;
    const x = n.inputs[0] as string;
    const hs = g.addTensor(`${n.name}_hardsigmoid`, g.shape(x), g.value(x).dtype);
    const sig: WNode = { name: `${n.name}_HardSigmoid`, op: 'HardSigmoid', attrs: { alpha: Math.fround(1 / 6), beta: 0.5 }, inputs: [x], outputs: [hs], covers: [n.name] };
    const mul: WNode = { name: `${n.name}_Mul`, op: 'Mul', attrs: {}, inputs: [x, hs], outputs: [...n.outputs], covers: [] };
    g.insertBefore(n, sig);
    g.insertBefore(n, mul);
    g.remove(n);
    changed = true;
  }
  return changed;
};

export const eliminateIdentity: Pass = (g) => {
  let changed = false;
  for (const n of [...g.nodes]) if (n.op === 'Identity' && bypass(g, n, n.inputs[0] as string)) changed = true;
  return changed;
};

/** Dropout is the identity at inference, when its mask is not read */
export const eliminateDropout: Pass = (g) => {
  let changed = false;
  for (const n of [...g.nodes]) {
    if (n.op !== 'Dropout') continue;
    const mask = n.outputs[1];
    if (mask && g.uses(mask) > 0) continue;
    g.setOutputs(n, n.outputs.slice(0, 1));
    if (bypass(g, n, n.inputs[0] as string)) changed = true;
  }
  return changed;
};

/** Add/Sub of a one-element constant 0, Mul/Div by a one-element constant 1, when the other input already has the output's shape */
export const eliminateNoop: Pass = (g) => {
  let changed = false;
  for (const n of [...g.nodes]) {
    const neutral = n.op === 'Add' || n.op === 'Sub' ? 0 : n.op === 'Mul' || n.op === 'Div' ? 1 : null;
    if (neutral === null || n.inputs.length !== 2) continue;
    const order = n.op === 'Add' || n.op === 'Mul' ? [0, 1] : [1];
    for (const ci of order) {
      const c = n.inputs[ci] as string;
      const other = n.inputs[1 - ci] as string;
      const v = g.values.get(c);
      if (!v?.constant || !v.data || v.data.length !== 1 || v.data[0] !== neutral || g.isConstant(other)) continue;
      if (!sameShape(g.shape(other), g.shape(n.outputs[0] as string))) continue;
      if (bypass(g, n, other)) {
        changed = true;
        break;
      }
    }
  }
  return changed;
};

/** Cast to the same type, Expand to the same shape, a Slice that takes everything */
export const eliminateCastExpandSlice: Pass = (g) => {
  let changed = false;
  for (const n of [...g.nodes]) {
    const x = n.inputs[0] as string;
    const out = n.outputs[0] as string;
    let noop = false;
    if (n.op === 'Cast') noop = g.value(x).dtype === g.value(out).dtype;
    else if (n.op === 'Expand' || n.op === 'Slice') noop = sameShape(g.shape(x), g.shape(out));
    if (noop && !g.isConstant(x) && bypass(g, n, x)) changed = true;
  }
  return changed;
};

/**
 * ConstantSharing then CommonSubexpressionElimination: nodes of the same op, attributes and
 * inputs are computed once (the first in order stays; readers of the others read it). ORT's CSE
 * compares constant inputs by value: constants whose elements are known (small ones, folded
 * ConstantOfShape fills) are equal when their contents are; weights without data never are.
 */
export const shareConstantsAndCse: Pass = (g) => {
  // a value's key and a node's attribute key do not change during the pass: each made once (a
  // value's as a short id standing for it), the attributes only for nodes that share op and
  // inputs with another (most nodes share with none)
  const idOfKey = new Map<string, number>();
  const inputIds = new Map<string, number>();
  const inputId = (name: string): number => {
    let id = inputIds.get(name);
    if (id !== undefined) return id;
    const v = g.values.get(name);
    let key: string;
    if (v?.constant && v.data) key = `=${v.dtype}[${v.shape.join(',')}]${numel(v.shape) <= 1 ? v.data[0] : v.data.join(',')}`;
    else if (v?.constant && v.fill !== undefined) key = `=${v.dtype}[${v.shape.join(',')}]*${v.fill}`;
    else key = name;
    id = idOfKey.get(key);
    if (id === undefined) idOfKey.set(key, (id = idOfKey.size));
    inputIds.set(name, id);
    return id;
  };
  const attrsKey = (n: WNode): string => JSON.stringify(n.attrs, Object.keys(n.attrs).sort());
  /** nodes by op, inputs and output count: the first seen of each attribute key */
  const seen = new Map<string, Array<{ attrs: string | null; node: WNode }>>();
  let changed = false;
  for (const n of [...g.nodes]) {
    if (n.outputs.some((o) => g.outputs.has(o))) continue;
    let key = `${n.op}|`;
    for (let i = 0; i < n.inputs.length; i++) key += (i > 0 ? ',' : '') + inputId(n.inputs[i] as string);
    key += `|${n.outputs.length}`;
    const group = seen.get(key);
    if (!group) {
      seen.set(key, [{ attrs: null, node: n }]);
      continue;
    }
    const attrs = attrsKey(n);
    let first: WNode | undefined;
    for (const e of group) {
      e.attrs ??= attrsKey(e.node);
      if (e.attrs === attrs) {
        first = e.node;
        break;
      }
    }
    if (!first) {
      group.push({ attrs, node: n });
      continue;
    }
    first.covers.push(...n.covers);
    g.remove(n);
    n.outputs.forEach((o, i) => o && g.replaceUses(o, first.outputs[i] as string));
    changed = true;
  }
  return changed;
};

/** Reshape, Squeeze, Unsqueeze, Flatten chains read by nothing else become one Reshape to the static shape */
export const fuseReshape: Pass = (g) => {
  const RESHAPES = new Set(['Reshape', 'Squeeze', 'Unsqueeze']);
  let changed = false;
  for (const n of [...g.nodes]) {
    if (!g.alive(n) || !RESHAPES.has(n.op)) continue;
    const next = loneConsumer(g, n.outputs[0] as string);
    if (!next || !RESHAPES.has(next.op) || next.inputs[0] !== n.outputs[0]) continue;
    const target = g.shape(next.outputs[0] as string);
    const shape = g.addConstant('shape', [target.length], { dtype: 'int64', data: [...target] });
    next.op = 'Reshape';
    next.attrs = { allowzero: attrNum(next, 'allowzero', 0) };
    g.setInputs(next, [n.inputs[0] as string, shape]);
    next.covers.unshift(...n.covers);
    g.remove(n);
    changed = true;
  }
  return changed;
};

export { absorb };
