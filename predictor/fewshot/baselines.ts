import { graphCost, lowerSpec, type SearchSpace } from '../../ops-library/index.ts';
import { additiveValues, encodeArchs } from './encode.ts';
import { solveSpd } from './linalg.ts';
import { referenceMatrix } from './reference.ts';
import type { FewShotInput } from './types.ts';

/**
 * FLOPs of every architecture from ops-library's cost model: the fixed units plus each chosen
 * candidate's units (the additive LUT decomposition; NAS-Bench-201's Adds cost no FLOPs to speak of).
 */
export function archFlops(space: SearchSpace, archs: readonly string[]): Float64Array {
  const codes = encodeArchs(space, archs);
  const table = new Float64Array(codes.width);
  let w = 0;
  for (const pos of space.positions) for (const choice of pos.choices) table[w++] = choice.units.reduce((a, u) => a + graphCost(lowerSpec(u)).flops, 0);
  const fixed = space.fixedUnits.reduce((a, u) => a + graphCost(lowerSpec(u)).flops, 0);
  return additiveValues(codes, table).map((v) => v + fixed);
}

/** FLOPs-only baseline: latency ∝ FLOPs, the factor fitted on the K samples (in log space). */
export function flopsBaseline(input: FewShotInput, flops: ArrayLike<number>): Float64Array {
  let off = 0;
  for (const t of input.target) off += Math.log(t.ms) - Math.log(flops[t.index] as number);
  off /= input.target.length;
  return Float64Array.from({ length: flops.length }, (_, i) => Math.exp(off + Math.log(flops[i] as number)));
}

/** Nearest reference device (best correlation on the K samples in log space), rescaled by a factor. */
export function nearestBaseline(input: FewShotInput): Float64Array {
  const codes = encodeArchs(input.space, input.archs);
  const ref = referenceMatrix(codes, input.reference);
  const y = input.target.map((t) => Math.log(t.ms));
  const corr = (col: Float64Array) => {
    const x = input.target.map((t) => col[t.index] as number);
    const mx = x.reduce((a, v) => a + v, 0) / x.length;
    const my = y.reduce((a, v) => a + v, 0) / y.length;
    let sxy = 0;
    let sxx = 0;
    let syy = 0;
    x.forEach((v, r) => {
      sxy += (v - mx) * ((y[r] as number) - my);
      sxx += (v - mx) ** 2;
      syy += ((y[r] as number) - my) ** 2;
    });
    return sxx === 0 || syy === 0 ? -Infinity : sxy / Math.sqrt(sxx * syy);
  };
  let best = 0;
  ref.cols.forEach((c, d) => {
    if (corr(c) > corr(ref.cols[best] as Float64Array)) best = d;
  });
  const col = ref.cols[best] as Float64Array;
  const off = input.target.reduce((a, t, r) => a + (y[r] as number) - (col[t.index] as number), 0) / y.length;
  return col.map((v) => Math.exp(v + off));
}

/** Ridge regression of the target's log-latency on all reference devices' log-latencies (λ = 0.1). */
export function ridgeBaseline(input: FewShotInput, lambda = 0.1): Float64Array {
  const codes = encodeArchs(input.space, input.archs);
  const ref = referenceMatrix(codes, input.reference);
  const d = ref.cols.length;
  const k = input.target.length;
  const y = input.target.map((t) => Math.log(t.ms));
  const my = y.reduce((a, v) => a + v, 0) / k;
  const mx = ref.cols.map((c) => input.target.reduce((a, t) => a + (c[t.index] as number), 0) / k);
  const g = new Float64Array(d * d);
  const rhs = new Float64Array(d);
  for (let a = 0; a < d; a++) {
    for (let b = 0; b < d; b++) {
      let s = 0;
      for (const t of input.target) s += ((ref.cols[a] as Float64Array)[t.index]! - mx[a]!) * ((ref.cols[b] as Float64Array)[t.index]! - mx[b]!);
      g[a * d + b] = s + (a === b ? lambda : 0);
    }
    rhs[a] = input.target.reduce((s, t, r) => s + ((ref.cols[a] as Float64Array)[t.index]! - mx[a]!) * (y[r]! - my), 0);
  }
  const w = solveSpd(g, rhs, d);
  return Float64Array.from({ length: codes.n }, (_, i) => {
    let s = my;
    for (let a = 0; a < d; a++) s += w[a]! * ((ref.cols[a] as Float64Array)[i]! - mx[a]!);
    return Math.exp(s);
  });
}
