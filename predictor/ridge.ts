import { Matrix, solve } from 'ml-matrix';

/**
 * Weighted ridge regression for relative error, solved exactly: minimise
 * Σ_i ((w·x_i + b − y_i) / y_i)² + λ·N·Σ_d (w_d − prior_d)², i.e. least squares on rows x_i/y_i
 * with target 1, shrunk toward a prior (e.g. "prediction = LUT sum"). Exact and fast (normal
 * equations of at most a few hundred features), where gradient descent needed minutes and
 * stopped short of the optimum on collinear features.
 */
export function relativeRidge(o: { x: ArrayLike<number>[]; y: ArrayLike<number>; prior: number[]; lambda: number }): { kernel: number[]; bias: number } {
  const n = o.y.length;
  const D = o.prior.length;
  if (n === 0) throw new RangeError(`'y' must hold at least 1 sample, got 0`);
  // unknowns: D weights then the bias; A = Σ a aᵀ, c = Σ a with a = [x, 1] / y
  const A = new Float64Array((D + 1) * (D + 1));
  const c = new Float64Array(D + 1);
  const a = new Float64Array(D + 1);
  for (let i = 0; i < n; i++) {
    const yi = o.y[i] as number;
    const xi = o.x[i] as ArrayLike<number>;
    for (let d = 0; d < D; d++) a[d] = (xi[d] as number) / yi;
    a[D] = 1 / yi;
    for (let r = 0; r <= D; r++) {
      const ar = a[r] as number;
      if (ar === 0) continue;
      c[r] = (c[r] as number) + ar;
      const row = r * (D + 1);
      for (let q = 0; q <= D; q++) A[row + q] = (A[row + q] as number) + ar * (a[q] as number);
    }
  }
  const lam = o.lambda * n;
  for (let d = 0; d < D; d++) {
    A[d * (D + 1) + d] = (A[d * (D + 1) + d] as number) + lam;
    c[d] = (c[d] as number) + lam * (o.prior[d] as number);
  }
  const rows = Array.from({ length: D + 1 }, (_, r) => Array.from(A.subarray(r * (D + 1), (r + 1) * (D + 1))));
  const w = solve(new Matrix(rows), Matrix.columnVector(Array.from(c)), true).to1DArray();
  return { kernel: w.slice(0, D), bias: w[D] as number };
}
