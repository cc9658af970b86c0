import type { AttrValue } from '../../onnx/import/types.ts';
import type { WNode, WorkGraph } from '../graph.ts';
import type { RuleSet } from '../rules/types.ts';
import { absorb, attrInts, attrNum, loneConsumer, numel, sameShape, type Pass } from './util.ts';

const FLT_MAX = 3.4028234663852886e38;

/** a plain ONNX Conv with constant weights (and bias, when it has one) */
function foldableConv(g: WorkGraph, n: WNode): boolean {
  return n.op === 'Conv' && g.isConstant(n.inputs[1] as string) && (!n.inputs[2] || g.isConstant(n.inputs[2]));
}

/** a constant that scales or shifts a Conv's output per channel: [C], [C,1,1] or [1,C,1,1] (or one element) */
function perChannel(g: WorkGraph, name: string, channels: number, rank: number): boolean {
  if (!g.isConstant(name)) return false;
  const s = g.shape(name);
  if (numel(s) === 1) return true;
  if (s.length === rank - 1) return s[0] === channels && s.slice(1).every((d) => d === 1);
  if (s.length === rank) return s[0] === 1 && s[1] === channels && s.slice(2).every((d) => d === 1);
  return false;
}

function ensureBias(g: WorkGraph, conv: WNode): void {
  if (conv.inputs[2]) return;
  const channels = g.shape(conv.inputs[1] as string)[0] as number;
  g.setInputs(conv, [conv.inputs[0] as string, conv.inputs[1] as string, g.addConstant(`${conv.name}_bias`, [channels]), ...conv.inputs.slice(3)]);
}

/** Conv → BatchNormalization with constant statistics: the BN folds into the Conv's weights and bias */
export const fuseConvBn: Pass = (g) => {
  let changed = false;
  for (const conv of [...g.nodes]) {
    if (!g.alive(conv) || !foldableConv(g, conv)) continue;
    const bn = loneConsumer(g, conv.outputs[0] as string);
    if (!bn || bn.op !== 'BatchNormalization' || bn.outputs.filter(Boolean).length !== 1) continue;
    if (!bn.inputs.slice(1, 5).every((i) => g.isConstant(i))) continue;
    ensureBias(g, conv);
    absorb(g, conv, bn);
    changed = true;
  }
  return changed;
};

/** Conv → Add of a per-channel constant: the constant becomes (part of) the bias */
export const fuseConvAdd: Pass = (g) => {
  let changed = false;
  for (const conv of [...g.nodes]) {
    if (!g.alive(conv) || !foldableConv(g, conv)) continue;
    const add = loneConsumer(g, conv.outputs[0] as string);
    if (!add || add.op !== 'Add') continue;
    const other = add.inputs.find((i) => i !== conv.outputs[0]) as string;
    const rank = g.shape(conv.outputs[0] as string).length;
    if (!perChannel(g, other, g.shape(conv.inputs[1] as string)[0] as number, rank) || numel(g.shape(other)) === 1) continue;
    ensureBias(g, conv);
    absorb(g, conv, add);
    changed = true;
  }
  return changed;
};

/** Conv → Mul by a per-channel constant: it scales the weights */
export const fuseConvMul: Pass = (g) => {
  let changed = false;
  for (const conv of [...g.nodes]) {
    if (!g.alive(conv) || !foldableConv(g, conv)) continue;
    const mul = loneConsumer(g, conv.outputs[0] as string);
    if (!mul || mul.op !== 'Mul') continue;
    const other = mul.inputs.find((i) => i !== conv.outputs[0]) as string;
    const rank = g.shape(conv.outputs[0] as string).length;
    if (!perChannel(g, other, g.shape(conv.inputs[1] as string)[0] as number, rank)) continue;
    absorb(g, conv, mul);
    changed = true;
  }
  return changed;
};

/** a constant-mode Pad of zeros on the spatial axes only, before a Conv or AveragePool, becomes its padding */
export const fusePad: Pass = (g) => {
  let changed = false;
  for (const pad of [...g.nodes]) {
    if (!g.alive(pad) || pad.op !== 'Pad') continue;
    if ((pad.attrs.mode ?? 'constant') !== 'constant' || pad.inputs[3]) continue;
    // Pad-11+ takes pads (and the fill value) as inputs, Pad-2 as attributes
    const pads = pad.inputs[1] ? g.values.get(pad.inputs[1])?.data : attrInts(pad, 'pads');
    const value = pad.inputs[2] ? g.values.get(pad.inputs[2])?.data : [attrNum(pad, 'value', 0)];
    if (!pads || !value || value[0] !== 0) continue;
    const child = loneConsumer(g, pad.outputs[0] as string);
    if (!child || (child.op !== 'Conv' && child.op !== 'AveragePool') || child.inputs[0] !== pad.outputs[0]) continue;
    const r = pads.length / 2;
    if (pads.some((p) => p < 0) || pads[0] !== 0 || pads[1] !== 0 || pads[r] !== 0 || pads[r + 1] !== 0) continue;
    const own = attrInts(child, 'pads') ?? new Array<number>(2 * (r - 2)).fill(0);
    const n = r - 2;
    child.attrs.pads = own.map((p, i) => p + (pads[(i < n ? 2 + i : r + 2 + (i - n))] as number));
    if (child.op === 'AveragePool') child.attrs.count_include_pad = 1;
    g.setInputs(child, [pad.inputs[0] as string, ...child.inputs.slice(1)]);
    child.covers.unshift(...pad.covers);
    g.remove(pad);
    changed = true;
  }
  return changed;
};

/** the activation attributes a fused kernel carries, or null when `act` cannot be fused */
export function activationAttrs(g: WorkGraph, act: WNode, allowed: readonly string[]): Record<string, AttrValue> | null {
  if (!allowed.includes(act.op)) return null;
  switch (act.op) {
    case 'LeakyRelu':
      return { activation: 'LeakyRelu', activation_params: [Math.fround(attrNum(act, 'alpha', 0.01))] };
    case 'HardSigmoid':
      return { activation: 'HardSigmoid', activation_params: [Math.fround(attrNum(act, 'alpha', 0.2)), Math.fround(attrNum(act, 'beta', 0.5))] };
    case 'Clip': {
      // only constant bounds fuse
      const bound = (i: number, dflt: number): number | null => {
        const name = act.inputs[i];
        if (!name) return dflt;
        const v = g.values.get(name);
        return v?.constant && v.data && v.data.length === 1 ? (v.data[0] as number) : null;
      };
      const lo = bound(1, -FLT_MAX);
      const hi = bound(2, FLT_MAX);
      return lo === null || hi === null ? null : { activation: 'Clip', activation_params: [lo, hi] };
    }
    default:
      return { activation: act.op };
  }
}

/** Conv → activation (its only reader): com.microsoft:FusedConv */
export const fuseConvActivation: Pass = (g, rules) => {
  let changed = false;
  for (const conv of [...g.nodes]) {
    if (!g.alive(conv) || conv.op !== 'Conv') continue;
    const act = loneConsumer(g, conv.outputs[0] as string);
    const attrs = act ? activationAttrs(g, act, rules.convActivations) : null;
    if (!act || !attrs) continue;
    conv.op = 'com.microsoft:FusedConv';
    Object.assign(conv.attrs, attrs);
    absorb(g, conv, act);
    changed = true;
  }
  return changed;
};

/** after the layout pass: a Conv with a bias → Add of an equal-shaped tensor (→ activation) is a FusedConv with a Sum input */
export const fuseConvAddActivation: Pass = (g, rules: RuleSet) => {
  let changed = false;
  for (const conv of [...g.nodes]) {
    if (!g.alive(conv) || conv.op !== 'Conv' || !conv.inputs[2] || conv.inputs.length > 3) continue;
    const add = loneConsumer(g, conv.outputs[0] as string);
    if (!add || add.op !== 'Add' || add.inputs.length !== 2) continue;
    const [a, b] = add.inputs as [string, string];
    if (g.shape(a).length !== 4 || !sameShape(g.shape(a), g.shape(b))) continue;
    const other = a === conv.outputs[0] ? b : a;
    g.setInputs(conv, [...conv.inputs, other]);
    conv.op = 'com.microsoft:FusedConv';
    absorb(g, conv, add);
    const act = loneConsumer(g, conv.outputs[0] as string);
    const attrs = act ? activationAttrs(g, act, rules.convActivations) : null;
    if (act && attrs) {
      Object.assign(conv.attrs, attrs);
      absorb(g, conv, act);
    }
    changed = true;
  }
  return changed;
};
