import type { WNode, WorkGraph } from '../graph.ts';
import { attrInts, attrNum, numel, type Pass } from './util.ts';

/**
 * ORT's TransposeOptimizer (level 1): walks the nodes in order and pushes a Transpose through the
 * node reading it when that is estimated to remove more transposing than it adds: inputs that are
 * constants cost nothing (they are transposed in place), an input that is a Transpose the push
 * undoes counts minus its rank, any other input its rank (dimensions other than 1), and the
 * transposed output counts its rank unless it leads, through pushable nodes, to another
 * Transpose. Only a strictly negative total pushes. Handlers, as ORT: unary elementwise ops,
 * broadcasting binary ops (lower-rank inputs unsqueezed), Clip, Transpose (composed), Concat and
 * Split (axis permuted), Softmax (axis permuted).
 */
interface Handler {
  /** which inputs get transposed */
  inputs: (g: WorkGraph, n: WNode) => number[];
  /** whether the node's outputs are transposed after the push (Shape-like ops are not) */
  transposesOutputs: boolean;
  kind: 'simple' | 'broadcast' | 'transpose' | 'axis' | 'reduce';
}

const all = (_: WorkGraph, n: WNode) => n.inputs.map((_, i) => i);
const first = () => [0];
const nonScalar = (g: WorkGraph, n: WNode) => n.inputs.flatMap((v, i) => (v && g.shape(v).length !== 0 ? [i] : []));

const SIMPLE = [
  'Cast', 'Exp', 'Identity', 'LeakyRelu', 'Log', 'Reciprocal', 'Relu', 'Sigmoid', 'Sqrt', 'Tanh', 'Abs', 'Not', 'Ceil', 'Floor', 'Neg', 'Erf',
  'HardSigmoid', 'Round', 'IsInf', 'IsNaN', 'Selu', 'Shrink', 'Sign', 'Softplus', 'Softsign', 'ThresholdedRelu', 'Celu', 'HardSwish',
  'Sin', 'Cos', 'Tan', 'Sinh', 'Cosh', 'Asin', 'Acos', 'Atan', 'Asinh', 'Acosh', 'Atanh',
];
const BROADCAST = ['Add', 'Max', 'Min', 'Mul', 'Sub', 'Div', 'And', 'Or', 'Xor', 'Mod', 'PRelu', 'BitShift', 'Equal', 'Greater', 'Less', 'GreaterOrEqual', 'LessOrEqual', 'Mean', 'Sum', 'Pow', 'Where'];

const HANDLERS: Readonly<Record<string, Handler>> = Object.freeze({
  ...Object.fromEntries(SIMPLE.map((op) => [op, { inputs: all, transposesOutputs: true, kind: 'simple' } as Handler])),
  ...Object.fromEntries(BROADCAST.map((op) => [op, { inputs: nonScalar, transposesOutputs: true, kind: 'broadcast' } as Handler])),
  Clip: { inputs: first, transposesOutputs: true, kind: 'simple' },
  CastLike: { inputs: first, transposesOutputs: true, kind: 'simple' },
  Transpose: { inputs: first, transposesOutputs: true, kind: 'transpose' },
  Concat: { inputs: all, transposesOutputs: true, kind: 'axis' },
  Split: { inputs: first, transposesOutputs: true, kind: 'axis' },
  Softmax: { inputs: first, transposesOutputs: true, kind: 'axis' },
  LogSoftmax: { inputs: first, transposesOutputs: true, kind: 'axis' },
  Hardmax: { inputs: first, transposesOutputs: true, kind: 'axis' },
  ...Object.fromEntries(
    ['ReduceLogSum', 'ReduceLogSumExp', 'ReduceMax', 'ReduceMean', 'ReduceMin', 'ReduceProd', 'ReduceSum', 'ReduceSumSquare', 'ReduceL1', 'ReduceL2'].map((op) => [
      op,
      { inputs: first, transposesOutputs: true, kind: 'reduce' } as Handler,
    ]),
  ),
});

const invert = (perm: readonly number[]) => {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
};
const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((x, i) => x === b[i]);
/** the shape of `shape` transposed by `perm` (out[i] = in[perm[i]]) */
const permute = (shape: readonly number[], perm: readonly number[]) => perm.map((p) => shape[p] as number);

class TransposeOptimizer {
  private changed = false;
  constructor(private readonly g: WorkGraph) {}

  private rank(v: string): number {
    return this.g.shape(v).filter((d) => d !== 1).length;
  }

  /** every reader of the Transpose's output can take a push (and it is not a graph output) */
  private canLikelyRemove(t: WNode): boolean {
    const out = t.outputs[0] as string;
    return !this.g.outputs.has(out) && this.g.consumers(out).every((c) => HANDLERS[c.op] !== undefined);
  }

  private inputCost(v: string, perm: readonly number[]): number {
    if (this.g.isConstant(v)) return 0;
    const p = this.g.producer(v);
    if (p?.op === 'Transpose') {
      const perm2 = attrInts(p, 'perm');
      if (perm2) return same(perm2, perm) && this.canLikelyRemove(p) ? -this.rank(v) : 0;
    }
    return this.rank(v);
  }

  run(): boolean {
    const nodes = [...this.g.nodes];
    const leading = new Set<string>();
    for (let i = nodes.length - 1; i >= 0; i--) {
      const n = nodes[i] as WNode;
      if (n.op === 'Transpose') {
        leading.add(n.inputs[0] as string);
        continue;
      }
      const h = HANDLERS[n.op];
      if (h?.transposesOutputs && n.outputs.some((o) => leading.has(o))) for (const j of h.inputs(this.g, n)) if (n.inputs[j]) leading.add(n.inputs[j] as string);
    }
    for (const n of nodes) {
      if (!this.g.alive(n)) continue;
      for (let j = 0; j < n.inputs.length; j++) {
        const v = n.inputs[j] as string;
        const t = v ? this.g.producer(v) : undefined;
        const perm = t?.op === 'Transpose' ? attrInts(t, 'perm') : undefined;
        if (t && perm && this.process(t, n, perm, j, leading)) break;
      }
    }
    return this.changed;
  }

  private process(t: WNode, n: WNode, perm: readonly number[], j: number, leading: ReadonlySet<string>): boolean {
    const h = HANDLERS[n.op];
    if (!h) return false;
    const idx = h.inputs(this.g, n);
    if (!idx.includes(j)) return false;
    if (n.op !== 'Transpose') {
      let cost = idx.reduce((s, i) => s + this.inputCost(n.inputs[i] as string, perm), 0);
      if (cost < 0 && h.transposesOutputs && !n.outputs.some((o) => leading.has(o))) cost += Math.max(...n.outputs.filter(Boolean).map((o) => this.rank(o)));
      if (cost >= 0) return false;
    }
    const inv = invert(perm);
    if (h.kind === 'transpose') return this.composeTransposes(t, n, perm);
    if (h.kind === 'axis') {
      const rank = perm.length;
      const dflt = n.op === 'Concat' ? undefined : n.op === 'Split' ? 0 : -1;
      let axis = typeof n.attrs.axis === 'number' ? (n.attrs.axis as number) : dflt;
      if (axis === undefined) return false;
      if (axis < 0) axis += rank;
      n.attrs.axis = perm[axis] as number;
    }
    if (h.kind === 'reduce') return this.reduce(n, perm, inv);
    if (h.kind === 'broadcast') this.normaliseRanks(n, idx, perm.length);
    for (const i of idx) this.transposeInput(n, i, inv);
    this.transposeOutputs(n, perm, inv);
    this.changed = true;
    return true;
  }

  /** Reduce*(Transpose(x)): the reduction over the permuted axes of x, its output transposed (with keepdims) or squeezed */
  private reduce(n: WNode, perm: readonly number[], inv: readonly number[]): boolean {
    const g = this.g;
    const rank = perm.length;
    const axesInput = n.op === 'ReduceSum' ? g.opset >= 13 : g.opset >= 18;
    const raw = axesInput ? (n.inputs[1] ? g.values.get(n.inputs[1])?.data : []) : (attrInts(n, 'axes') ?? []);
    if (raw === undefined) return false;
    const keep = attrNum(n, 'keepdims', 1) !== 0;
    const axes = raw.map((a) => (a < 0 ? a + rank : a));
    if (axes.some((a) => a < 0 || a >= rank)) return false;
    const all = axes.length === 0;
    if (!all && !keep) return false;
    if (!all) {
      const moved = axes.map((a) => perm[a] as number).sort((a, b) => a - b);
      if (axesInput) g.setInputs(n, [n.inputs[0] as string, g.addConstant('axes', [moved.length], { dtype: 'int64', data: moved })]);
      else n.attrs.axes = moved;
    }
    this.transposeInput(n, 0, inv);
    if (keep) this.transposeOutputs(n, perm, inv);
    else {
      // all axes reduced away: a scalar, nothing to transpose back
      g.touch();
    }
    this.changed = true;
    return true;
  }

  /** Transpose(Transpose(x, p1), p2): one Transpose of the composed permutation, or none */
  private composeTransposes(t: WNode, n: WNode, perm: readonly number[]): boolean {
    const perm2 = attrInts(n, 'perm');
    if (!perm2) return false;
    const composed = perm2.map((p) => perm[p] as number);
    const x = t.inputs[0] as string;
    const out = n.outputs[0] as string;
    const tOut = t.outputs[0] as string;
    if (composed.every((p, i) => p === i) && !this.g.outputs.has(out)) {
      // the two cancel: their source nodes go with whatever made x
      this.g.remove(n);
      this.g.replaceUses(out, x);
      const home = this.g.uses(tOut) === 0 ? this.g.producer(x) : t;
      if (this.g.uses(tOut) === 0) this.g.remove(t);
      home?.covers.push(...(home === t ? [] : t.covers), ...n.covers);
    } else {
      this.g.setInputs(n, [x]);
      n.attrs.perm = composed;
      if (this.g.uses(tOut) === 0) {
        n.covers.unshift(...t.covers);
        this.g.remove(t);
      }
    }
    this.changed = true;
    return true;
  }

  /** inputs of lower rank get leading 1s (a constant reshaped in place, else an Unsqueeze) */
  private normaliseRanks(n: WNode, idx: readonly number[], rank: number): void {
    for (const i of idx) {
      const v = n.inputs[i] as string;
      const s = this.g.shape(v);
      if (s.length >= rank) continue;
      const shape = [...new Array<number>(rank - s.length).fill(1), ...s];
      if (this.g.isConstant(v)) {
        const c = this.g.addConstant(`${v}_unsqueezed`, shape, { dtype: this.g.value(v).dtype, ...(numel(s) <= 1 && this.g.value(v).data ? { data: this.g.value(v).data } : {}) });
        this.g.setInputs(n, n.inputs.map((x, k) => (k === i ? c : x)));
      } else {
        const axes = this.g.addConstant('axes', [rank - s.length], { dtype: 'int64', data: Array.from({ length: rank - s.length }, (_, k) => k) });
        const u = this.g.addTensor(`${v}_unsqueezed`, shape, this.g.value(v).dtype);
        this.g.insertBefore(n, { name: `${n.name}_Unsqueeze_${i}`, op: 'Unsqueeze', attrs: {}, inputs: [v, axes], outputs: [u], covers: [] });
        this.g.setInputs(n, n.inputs.map((x, k) => (k === i ? u : x)));
      }
    }
  }

  /** input i of n transposed by `perm`: a constant in place, an undone Transpose removed, else a new Transpose */
  private transposeInput(n: WNode, i: number, perm: readonly number[]): void {
    const g = this.g;
    const v = n.inputs[i] as string;
    const set = (to: string) => g.setInputs(n, n.inputs.map((x, k) => (k === i ? to : x)));
    if (g.isConstant(v)) {
      const s = g.shape(v);
      const data = numel(s) <= 1 ? g.value(v).data : undefined;
      set(g.addConstant(`${v}_transposed`, permute(s, perm), { dtype: g.value(v).dtype, ...(data ? { data } : {}) }));
      return;
    }
    const p = g.producer(v);
    const perm2 = p?.op === 'Transpose' ? attrInts(p, 'perm') : undefined;
    if (p && perm2 && perm2.length === perm.length) {
      const composed = perm.map((q) => perm2[q] as number);
      if (composed.every((q, k) => q === k)) {
        set(p.inputs[0] as string);
        if (g.uses(v) === 0) {
          // the cancelled Transpose's source node now runs as part of this one
          n.covers.push(...p.covers);
          g.remove(p);
        }
        return;
      }
    }
    const out = g.addTensor(`${v}_transposed`, permute(g.shape(v), perm), g.value(v).dtype);
    g.insertBefore(n, { name: `${n.name}_Transpose_${i}`, op: 'Transpose', attrs: { perm: [...perm] }, inputs: [v], outputs: [out], covers: [] });
    set(out);
  }

  /** the node now computes in the pushed layout: a Transpose after it restores each output */
  private transposeOutputs(n: WNode, perm: readonly number[], inv: readonly number[]): void {
    const g = this.g;
    const outs = [...n.outputs];
    const renamed = outs.map((o) => (o ? g.addTensor(`${o}_pushed`, permute(g.shape(o), inv), g.value(o).dtype) : o));
    g.setOutputs(n, renamed);
    let after = n;
    outs.forEach((o, k) => {
      if (!o) return;
      const t: WNode = { name: `${n.name}_Transpose_out${k}`, op: 'Transpose', attrs: { perm: [...perm] }, inputs: [renamed[k] as string], outputs: [o], covers: [] };
      g.insertAfter(after, t);
      after = t;
    });
    void attrNum;
  }
}

export const optimiseTransposes: Pass = (g) => new TransposeOptimizer(g).run();
