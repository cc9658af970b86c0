import type { WNode } from '../graph.ts';
import { absorb, attrNum, loneConsumer, numel, type Pass } from './util.ts';

/**
 * MatMul by a 2-D weight → Add of a bias: one Gemm. An input of rank > 2 is flattened to a
 * matrix by a Reshape before the Gemm and restored by one after it (ORT's MatMulAddFusion).
 */
export const fuseMatMulAdd: Pass = (g) => {
  let changed = false;
  for (const mm of [...g.nodes]) {
    if (!g.alive(mm) || mm.op !== 'MatMul') continue;
    const [a, b] = mm.inputs as [string, string];
    const as = g.shape(a);
    const bs = g.shape(b);
    if (bs.length !== 2 || as.length < 2) continue;
    const add = loneConsumer(g, mm.outputs[0] as string);
    if (!add || add.op !== 'Add') continue;
    const bias = add.inputs.find((i) => i !== mm.outputs[0]) as string;
    const cs = g.shape(bias);
    const n = bs[1] as number;
    const out = add.outputs[0] as string;
    if (as.length === 2) {
      // C must broadcast to [M, N]
      if (cs.length > 2 || (cs.length >= 1 && cs[cs.length - 1] !== n && cs[cs.length - 1] !== 1)) continue;
    } else if (!g.isConstant(b) || !g.isConstant(bias) || numel(cs) !== n || cs[cs.length - 1] !== n) continue;
    const gemm: WNode = { name: `${mm.name}_gemm`, op: 'Gemm', attrs: { alpha: 1, beta: 1, transA: 0, transB: 0 }, inputs: [a, b, bias], outputs: [out], covers: [...mm.covers, ...add.covers] };
    if (as.length > 2) {
      const m = numel(as.slice(0, -1));
      const flat = g.addTensor(`${mm.name}_flat`, [m, as[as.length - 1] as number]);
      const gout = g.addTensor(`${mm.name}_gemm_out`, [m, n]);
      const s2 = g.addConstant('shape', [2], { dtype: 'int64', data: [m, as[as.length - 1] as number] });
      const sN = g.addConstant('shape', [as.length], { dtype: 'int64', data: [...as.slice(0, -1), n] });
      gemm.inputs[0] = flat;
      gemm.outputs = [gout];
      const r1: WNode = { name: `${mm.name}_reshape_in`, op: 'Reshape', attrs: { allowzero: 0 }, inputs: [a, s2], outputs: [flat], covers: [] };
      const r2: WNode = { name: `${mm.name}_reshape_out`, op: 'Reshape', attrs: { allowzero: 0 }, inputs: [gout, sN], outputs: [out], covers: [] };
      g.insertBefore(mm, r1);
      g.insertBefore(mm, gemm);
      g.insertBefore(mm, r2);
    } else {
      g.insertBefore(mm, gemm);
    }
    g.remove(mm, add);
    changed = true;
  }
  return changed;
};

/** Gemm → activation (its only reader): com.microsoft:FusedGemm */
export const fuseGemmActivation: Pass = (g, rules) => {
  let changed = false;
  for (const gemm of [...g.nodes]) {
    if (!g.alive(gemm) || gemm.op !== 'Gemm') continue;
    const act = loneConsumer(g, gemm.outputs[0] as string);
    if (!act || !rules.gemmActivations.includes(act.op)) continue;
    gemm.op = 'com.microsoft:FusedGemm';
    gemm.attrs.activation = act.op;
    if (act.op === 'LeakyRelu') gemm.attrs.activation_alpha = Math.fround(attrNum(act, 'alpha', 0.01));
    if (act.op === 'HardSigmoid') {
      gemm.attrs.activation_alpha = Math.fround(attrNum(act, 'alpha', 0.2));
      gemm.attrs.activation_beta = Math.fround(attrNum(act, 'beta', 0.5));
    }
    absorb(g, gemm, act);
    changed = true;
  }
  return changed;
};
