/**
 * Solves the small symmetric positive-definite system A x = b (A is n×n row-major) by Cholesky,
 * adding a tiny jitter when A is only semi-definite. Systems here are at most a few hundred wide.
 */
export function solveSpd(a: Float64Array, b: Float64Array, n: number): Float64Array {
  let trace = 0;
  for (let i = 0; i < n; i++) trace += a[i * n + i] as number;
  for (let attempt = 0, jitter = 0; attempt < 6; attempt++, jitter = jitter === 0 ? 1e-10 * (trace / n || 1) : jitter * 100) {
    const l = cholesky(a, n, jitter);
    if (l) return cholSolve(l, b, n);
  }
  throw new RangeError(`solveSpd: the ${n}×${n} system is not positive definite`);
}

function cholesky(a: Float64Array, n: number, jitter: number): Float64Array | null {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = (a[i * n + j] as number) + (i === j ? jitter : 0);
      for (let k = 0; k < j; k++) s -= (l[i * n + k] as number) * (l[j * n + k] as number);
      if (i === j) {
        if (!(s > 0)) return null;
        l[i * n + i] = Math.sqrt(s);
      } else {
        l[i * n + j] = s / (l[j * n + j] as number);
      }
    }
  }
  return l;
}

function cholSolve(l: Float64Array, b: Float64Array, n: number): Float64Array {
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i] as number;
    for (let k = 0; k < i; k++) s -= (l[i * n + k] as number) * (y[k] as number);
    y[i] = s / (l[i * n + i] as number);
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i] as number;
    for (let k = i + 1; k < n; k++) s -= (l[k * n + i] as number) * (x[k] as number);
    x[i] = s / (l[i * n + i] as number);
  }
  return x;
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
