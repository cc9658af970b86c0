import type { WNode, WorkGraph } from '../graph.ts';
import { attrInts, attrNum, loneConsumer, numel, sameShape, type Pass } from './util.ts';

const FUSED = 'com.microsoft:FusedMatMul';

/** a MatMul becomes a FusedMatMul carrying every flag (ORT writes them all) */
function asFused(n: WNode): void {
  if (n.op === FUSED) return;
  n.op = FUSED;
  n.attrs = { alpha: 1, transA: 0, transB: 0, transBatchA: 0, transBatchB: 0, ...n.attrs };
}

/** what a Transpose's perm does to a MatMul operand: swap the matrix dims, move dim 0 behind the batch dims, or both */
function transposeKind(perm: readonly number[]): { trans: boolean; batch: boolean } | null {
  const r = perm.length;
  if (r < 2) return null;
  const is = (want: number[]) => want.length === r && want.every((p, i) => p === perm[i]);
  const front = Array.from({ length: r - 2 }, (_, i) => i);
  if (is([...front, r - 1, r - 2])) return { trans: true, batch: false };
  if (r < 3) return null;
  const batch = Array.from({ length: r - 2 }, (_, i) => i + 1);
  if (is([...batch, 0, r - 1])) return { trans: false, batch: true };
  if (is([...batch, r - 1, 0])) return { trans: true, batch: true };
  return null;
}

/**
 * MatMul (or FusedMatMul) reading a Transpose read by nothing else: the transpose becomes the
 * FusedMatMul's transA/transB and transBatchA/transBatchB flags (ORT's MatmulTransposeFusion).
 */
export const fuseMatMulTranspose: Pass = (g) => {
  let changed = false;
  for (const mm of [...g.nodes]) {
    if (!g.alive(mm) || (mm.op !== 'MatMul' && mm.op !== FUSED)) continue;
    for (const [i, side] of [[0, 'A'], [1, 'B']] as const) {
      const v = mm.inputs[i] as string;
      const t = g.producer(v);
      const perm = t?.op === 'Transpose' ? attrInts(t, 'perm') : undefined;
      if (!t || !perm || g.uses(v) !== 1) continue;
      const kind = transposeKind(perm);
      if (!kind || attrNum(mm, `transBatch${side}`, 0) !== 0 || (kind.trans && attrNum(mm, `trans${side}`, 0) !== 0 && !kind.batch)) continue;
      if (kind.batch && attrNum(mm, `trans${side}`, 0) !== 0) continue;
      asFused(mm);
      if (kind.trans) mm.attrs[`trans${side}`] = 1 - attrNum(mm, `trans${side}`, 0);
      if (kind.batch) mm.attrs[`transBatch${side}`] = 1;
      g.setInputs(mm, mm.inputs.map((x, k) => (k === i ? (t.inputs[0] as string) : x)));
      mm.covers.push(...t.covers);
      g.remove(t);
      changed = true;
    }
  }
  return changed;
};

const scalarOf = (g: WorkGraph, v: string | undefined): number | undefined => {
  const c = v ? g.values.get(v) : undefined;
  return c?.constant && c.data && numel(c.shape) === 1 ? c.data[0] : undefined;
};

/** Mul or Div by a scalar constant on a MatMul's input or output: FusedMatMul's alpha (ORT's MatMulScaleFusion) */
export const fuseMatMulScale: Pass = (g) => {
  let changed = false;
  for (const mm of [...g.nodes]) {
    if (!g.alive(mm) || (mm.op !== 'MatMul' && mm.op !== FUSED)) continue;
    // inputs: x·c or x/c read by this MatMul only
    for (const i of [0, 1]) {
      const v = mm.inputs[i] as string;
      const s = g.producer(v);
      if (!s || g.uses(v) !== 1 || (s.op !== 'Mul' && s.op !== 'Div')) continue;
      const k = s.op === 'Div' ? 1 : scalarOf(g, s.inputs[0]) !== undefined ? 0 : 1;
      const c = scalarOf(g, s.inputs[k]);
      if (c === undefined || g.isConstant(s.inputs[1 - k] as string) || (s.op === 'Div' && k !== 1)) continue;
      asFused(mm);
      mm.attrs.alpha = Math.fround(attrNum(mm, 'alpha', 1) * (s.op === 'Div' ? 1 / c : c));
      g.setInputs(mm, mm.inputs.map((x, j) => (j === i ? (s.inputs[1 - k] as string) : x)));
      mm.covers.push(...s.covers);
      g.remove(s);
      changed = true;
    }
    // output: MatMul → ·c
    const s = loneConsumer(g, mm.outputs[0] as string);
    if (s && (s.op === 'Mul' || s.op === 'Div')) {
      const k = s.inputs[0] === mm.outputs[0] ? 1 : 0;
      const c = scalarOf(g, s.inputs[k]);
      if (c !== undefined && !(s.op === 'Div' && k !== 1)) {
        asFused(mm);
        mm.attrs.alpha = Math.fround(attrNum(mm, 'alpha', 1) * (s.op === 'Div' ? 1 / c : c));
        g.remove(s);
        g.setOutputs(mm, s.outputs);
        mm.covers.push(...s.covers);
        changed = true;
      }
    }
  }
  return changed;
};

/** Add of two equal-shaped tensors read only by a LayerNormalization over the last axis: com.microsoft:SkipLayerNormalization */
export const fuseSkipLayerNorm: Pass = (g) => {
  let changed = false;
  for (const add of [...g.nodes]) {
    if (!g.alive(add) || add.op !== 'Add' || add.inputs.length !== 2) continue;
    const [a, b] = add.inputs as [string, string];
    if (g.isConstant(a) || g.isConstant(b) || g.shape(a).length !== 3 || !sameShape(g.shape(a), g.shape(b))) continue;
    const ln = loneConsumer(g, add.outputs[0] as string);
    if (!ln || ln.op !== 'LayerNormalization' || ln.outputs.filter(Boolean).length !== 1) continue;
    const axis = attrNum(ln, 'axis', -1);
    if (axis !== -1 && axis !== 2) continue;
    const [gamma, beta] = [ln.inputs[1], ln.inputs[2]];
    if (!gamma || !g.isConstant(gamma) || (beta && !g.isConstant(beta))) continue;
    const skip: WNode = {
      name: `${ln.name}_SkipLayerNorm`, op: 'com.microsoft:SkipLayerNormalization', attrs: { epsilon: attrNum(ln, 'epsilon', Math.fround(1e-5)) },
      inputs: [a, b, gamma, ...(beta ? [beta] : [])], outputs: [...ln.outputs], covers: [...add.covers, ...ln.covers],
    };
    g.insertBefore(ln, skip);
    g.remove(add, ln);
    changed = true;
  }
  return changed;
};
