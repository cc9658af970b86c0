import { CholeskyDecomposition, Matrix } from 'ml-matrix';

/**
 * Solves the small symmetric positive-definite system A x = b (A is n×n row-major) by Cholesky,
 * adding a tiny jitter when A is only semi-definite. Systems here are at most a few hundred wide.
 * Only A's lower triangle is read (callers build A by sums whose two triangles can differ in the
 * last bit, which ml-matrix's exact symmetry check would refuse).
 */
export function solveSpd(a: Float64Array, b: ArrayLike<number>, n: number): Float64Array {
  let trace = 0;
  for (let i = 0; i < n; i++) trace += a[i * n + i] as number;
  const rhs = Matrix.columnVector(Array.from({ length: n }, (_, i) => b[i] as number));
  for (let attempt = 0, jitter = 0; attempt < 6; attempt++, jitter = jitter === 0 ? 1e-10 * (trace / n || 1) : jitter * 100) {
    const m = new Matrix(n, n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < i; j++) {
        const v = a[i * n + j] as number;
        m.set(i, j, v);
        m.set(j, i, v);
      }
      m.set(i, i, (a[i * n + i] as number) + jitter);
    }
    const chol = new CholeskyDecomposition(m);
    if (chol.isPositiveDefinite()) return Float64Array.from(chol.solve(rhs).getColumn(0));
  }
  throw new RangeError(`solveSpd: the ${n}×${n} system is not positive definite`);
}

/** (ZᵀZ + P)⁻¹Zᵀ for a small design Z (rows×cols, row-major) and diagonal penalty P. */
export function ridgeProjector(z: Float64Array, rows: number, cols: number, penalty: readonly number[]): Float64Array {
  const g = new Float64Array(cols * cols);
  for (let i = 0; i < cols; i++) {
    for (let j = 0; j < cols; j++) {
      let s = 0;
      for (let r = 0; r < rows; r++) s += (z[r * cols + i] as number) * (z[r * cols + j] as number);
      g[i * cols + j] = s;
    }
    g[i * cols + i] = (g[i * cols + i] as number) + (penalty[i] ?? 0);
  }
  // M = G⁻¹Zᵀ, column by column (cols ≤ 3 where this is used per candidate)
  const m = new Float64Array(cols * rows);
  for (let r = 0; r < rows; r++) {
    const x = solveSpd(g, z.subarray(r * cols, (r + 1) * cols), cols);
    for (let i = 0; i < cols; i++) m[i * rows + r] = x[i] as number;
  }
  return m;
}
