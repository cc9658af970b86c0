/**
 * An RBF (kernel-ridge) correction of the composite's log residual over the architecture's choices, for
 * spaces that are not a sum over positions (NAS-Bench-201's cell). There the latency depends on how
 * the edges combine: which node's ReLU two convolutions share, which Adds ONNX Runtime fuses into a
 * convolution, which reorders its NCHWc layout inserts. The per-unit features cannot say that, and
 * 500 networks are too few to train a network on it; a kernel on the Hamming distance between two
 * architectures (k = exp(−γ·distance)) can express any such interaction and shrinks to 0 where the
 * data say nothing (its effect on NAS-Bench-201: docs/benchmarks.md, kernel correction).
 */
import { Matrix, solve } from 'ml-matrix';

export interface RbfResidual {
  gamma: number;
  /** [support · positions] candidate indices of the training architectures */
  support: number[];
  positions: number;
  /** candidates per position (what the table of every architecture is laid out by) */
  choices: number[];
  /** one weight per support architecture */
  alpha: number[];
}

/** spaces with at most this many architectures get every correction tabulated on first use */
const MAX_TABLE = 1 << 17;

/** The candidate (γ, λ) pairs validation chooses among: fixed, not tuned per device. */
export const RBF_RESIDUAL_GRID: ReadonlyArray<readonly [number, number]> = Object.freeze(
  [0.3, 0.7, 1.5].flatMap((g) => [0.1, 0.3, 1].map((l) => Object.freeze([g, l] as const))),
);

/** at most this many support architectures: the solve is cubic in them */
export const RBF_RESIDUAL_MAX_SUPPORT = 800;

/**
 * Fits log(measured / predicted) ≈ Σ_j α_j · exp(−γ · hamming(arch, arch_j)) by kernel ridge
 * (K + λI) α = r over the training architectures.
 *
 * @example
 * const k = fitRbfResidual({ codes: train.map((r) => r.idx), choices: [5, 5, 5, 5, 5, 5], logResidual, gamma: 0.7, lambda: 0.3 });
 * rbfResidualAt(k, idx); // log factor to multiply the composite's prediction by
 */
export function fitRbfResidual(o: { codes: readonly Int32Array[]; choices: readonly number[]; logResidual: readonly number[]; gamma: number; lambda: number }): RbfResidual {
  const n = o.codes.length;
  if (n === 0 || n !== o.logResidual.length) throw new RangeError(`'codes' and 'logResidual' must be non-empty and of the same length, got ${n} and ${o.logResidual.length}`);
  if (n > RBF_RESIDUAL_MAX_SUPPORT) throw new RangeError(`'codes' must hold at most ${RBF_RESIDUAL_MAX_SUPPORT} architectures (the solve is cubic), got ${n}`);
  if (!(o.gamma > 0) || !(o.lambda > 0)) throw new RangeError(`'gamma' and 'lambda' must be > 0, got ${o.gamma} and ${o.lambda}`);
  const P = (o.codes[0] as Int32Array).length;
  if (o.choices.length !== P) throw new RangeError(`'choices' must give the candidates of each of the ${P} positions, got ${o.choices.length}`);
  const support: number[] = [];
  for (const c of o.codes) for (let p = 0; p < P; p++) support.push(c[p] as number);
  const K = new Matrix(n, n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const v = Math.exp(-o.gamma * hamming(support, i * P, o.codes[j] as Int32Array, P)) + (i === j ? o.lambda : 0);
      K.set(i, j, v);
      K.set(j, i, v);
    }
  }
  const alpha = solve(K, Matrix.columnVector([...o.logResidual]), true).to1DArray();
  return { gamma: o.gamma, support, positions: P, choices: [...o.choices], alpha };
}

interface Compiled {
  support: Int32Array;
  alpha: Float64Array;
  w: Float64Array;
  /** every architecture's correction, by mixed-radix index (small spaces, once used enough), else null */
  table: Float64Array | null;
  calls: number;
}

/** tabulate after this many single predictions: validating 9 candidate fits should not build 9 tables */
const TABLE_AFTER = 4096;

/** typed copies of a fitted (or loaded) correction, made once: this is the prediction's hot path */
const compiled = new WeakMap<RbfResidual, Compiled>();

function sumAt(c: Compiled, P: number, idx: ArrayLike<number>): number {
  const { support, alpha, w } = c;
  let s = 0;
  for (let j = 0, o = 0; j < alpha.length; j++, o += P) {
    s += (alpha[j] as number) * (w[hamming(support, o, idx, P)] as number);
  }
  return s;
}

function compile(k: RbfResidual): Compiled {
  // exp(−γ·d) for d = 0..positions, once rather than once per support architecture
  const c: Compiled = {
    support: Int32Array.from(k.support), alpha: Float64Array.from(k.alpha),
    w: Float64Array.from({ length: k.positions + 1 }, (_, d) => Math.exp(-k.gamma * d)), table: null, calls: 0,
  };
  return c;
}

function tabulate(k: RbfResidual, c: Compiled): void {
  const size = k.choices.reduce((a, n) => a * n, 1);
  {
    // NAS-Bench-201: 15,625 architectures × 400 support ones, ~0.2 s once; then a lookup each
    const table = new Float64Array(size);
    const idx = new Int32Array(k.positions);
    for (let i = 0; i < size; i++) {
      let x = i;
      for (let p = k.positions - 1; p >= 0; p--) {
        idx[p] = x % (k.choices[p] as number);
        x = Math.floor(x / (k.choices[p] as number));
      }
      table[i] = sumAt(c, k.positions, idx);
    }
    c.table = table;
  }
}

/** The log correction factor of one architecture (candidate indices). */
export function rbfResidualAt(k: RbfResidual, idx: Int32Array): number {
  let c = compiled.get(k);
  if (!c) compiled.set(k, (c = compile(k)));
  if (!c.table && ++c.calls === TABLE_AFTER && k.choices.reduce((a, n) => a * n, 1) <= MAX_TABLE) tabulate(k, c);
  if (c.table) {
    let i = 0;
    for (let p = 0; p < k.positions; p++) i = i * (k.choices[p] as number) + (idx[p] as number);
    return c.table[i] as number;
  }
  return sumAt(c, k.positions, idx);
}

/** positions where the support architecture at `offset` and `idx` differ */
function hamming(support: ArrayLike<number>, offset: number, idx: ArrayLike<number>, P: number): number {
  let d = 0;
  for (let p = 0; p < P; p++) if (support[offset + p] !== idx[p]) d++;
  return d;
}
