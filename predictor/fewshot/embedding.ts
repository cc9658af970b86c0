import { solveSpd } from './linalg.ts';
import type { ReferenceMatrix } from './reference.ts';

/**
 * Eigen-decomposition of a small symmetric matrix (row-major n×n) by cyclic Jacobi: values, and
 * vectors as columns (`vectors[i * n + r]` is component i of vector r).
 *
 * @example
 * symmetricEigen(Float64Array.from([2, 0, 0, 1]), 2).values // [2, 1]
 */
export function symmetricEigen(a: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const m = Float64Array.from(a);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 60; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += (m[p * n + q] as number) ** 2;
    if (off < 1e-22) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q] as number;
        if (Math.abs(apq) < 1e-300) continue;
        const theta = ((m[q * n + q] as number) - (m[p * n + p] as number)) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const mkp = m[k * n + p] as number;
          const mkq = m[k * n + q] as number;
          m[k * n + p] = c * mkp - s * mkq;
          m[k * n + q] = s * mkp + c * mkq;
        }
        for (let k = 0; k < n; k++) {
          const mpk = m[p * n + k] as number;
          const mqk = m[q * n + k] as number;
          m[p * n + k] = c * mpk - s * mqk;
          m[q * n + k] = s * mpk + c * mqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p] as number;
          const vkq = v[k * n + q] as number;
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  return { values: Float64Array.from({ length: n }, (_, i) => m[i * n + i] as number), vectors: v };
}

/**
 * The reference devices as a low-rank population: principal log-latency patterns over the
 * architectures (`features[r]`, unit mean square) and each device's coordinates on them; a new
 * device is a draw from N(mean, cov) of those coordinates.
 */
export interface DeviceEmbedding {
  features: Float64Array[];
  mean: Float64Array;
  cov: Float64Array;
}

const embeddings = new WeakMap<ReferenceMatrix, DeviceEmbedding | null>();

/**
 * The reference population's principal log-latency patterns and the Gaussian of the devices'
 * coordinates on them (null with fewer than 3 devices). Cached per matrix.
 *
 * @example
 * const emb = deviceEmbedding(denoiseReference(codes, referenceMatrix(codes, reference)));
 * emb?.features.length // ≤ the number of reference devices
 */
export function deviceEmbedding(ref: ReferenceMatrix): DeviceEmbedding | null {
  if (embeddings.has(ref)) return embeddings.get(ref) ?? null;
  const d = ref.cols.length;
  if (d < 3) {
    embeddings.set(ref, null);
    return null;
  }
  const n = (ref.cols[0] as Float64Array).length;
  const g = new Float64Array(d * d);
  for (let a = 0; a < d; a++) {
    for (let b = a; b < d; b++) {
      let s = 0;
      const ca = ref.cols[a] as Float64Array;
      const cb = ref.cols[b] as Float64Array;
      for (let i = 0; i < n; i++) s += (ca[i] as number) * (cb[i] as number);
      g[a * d + b] = s / n;
      g[b * d + a] = s / n;
    }
  }
  const { values, vectors } = symmetricEigen(g, d);
  const top = (values[0] as number) > 0 ? Math.max(...values) : 1;
  const keep = Array.from({ length: d }, (_, r) => r).filter((r) => (values[r] as number) > 1e-8 * top);
  const features = keep.map((r) => {
    const f = new Float64Array(n);
    const s = 1 / Math.sqrt(values[r] as number);
    for (let a = 0; a < d; a++) {
      const w = (vectors[a * d + r] as number) * s;
      const col = ref.cols[a] as Float64Array;
      for (let i = 0; i < n; i++) f[i] = (f[i] as number) + w * (col[i] as number);
    }
    return f;
  });
  const q = keep.length;
  const coords = Array.from({ length: d }, (_, a) => Float64Array.from(keep, (r) => Math.sqrt(values[r] as number) * (vectors[a * d + r] as number)));
  const mean = new Float64Array(q);
  for (const c of coords) for (let r = 0; r < q; r++) mean[r] = (mean[r] as number) + (c[r] as number) / d;
  const cov = new Float64Array(q * q);
  for (const c of coords) for (let x = 0; x < q; x++) for (let y = 0; y < q; y++) cov[x * q + y] = (cov[x * q + y] as number) + (((c[x] as number) - (mean[x] as number)) * ((c[y] as number) - (mean[y] as number))) / (d - 1);
  const out = { features, mean, cov };
  embeddings.set(ref, out);
  return out;
}

/**
 * Reference devices needed before the embedding model joins the prediction: its prior is the
 * mean and covariance of the devices' coordinates, which a handful of devices cannot estimate
 * (leave-one-device-out with 9 random reference devices: it cost NAS-Bench-201 0.4 points of
 * ±10%; with 12 or more it helped both spaces).
 */
export const EMBEDDING_MIN_DEVICES = 12;

/** Noise variances (log space) tried by embeddingModel: from repeat-level jitter to a device far off the population. */
const NOISE_GRID = Object.freeze([1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1]);

/**
 * Bayesian linear regression of the new device's log-latency on the population's principal
 * patterns: its coordinates (the device embedding) have the reference devices' mean and
 * covariance as prior, the intercept a broad one; the noise level is the one of a fixed grid with
 * the highest marginal likelihood of the K samples. Returns its log prediction for every
 * architecture and its leave-one-out MSE on the K samples (GP closed form).
 *
 * @example
 * const { logPred, looMse } = embeddingModel(emb, [3, 17, 42], Float64Array.from([1.2, 2.3, 1.9]));
 */
export function embeddingModel(emb: DeviceEmbedding, idx: readonly number[], y: Float64Array, noiseGrid: readonly number[] = NOISE_GRID): { logPred: Float64Array; looMse: number; looRes: Float64Array; noise: number } {
  const k = idx.length;
  const q = emb.features.length;
  const fs = new Float64Array(k * q);
  for (let r = 0; r < k; r++) for (let x = 0; x < q; x++) fs[r * q + x] = (emb.features[x] as Float64Array)[idx[r] as number] as number;
  // prior mean of the samples and the prior covariance between them (+ a broad intercept)
  const m0 = new Float64Array(k);
  for (let r = 0; r < k; r++) for (let x = 0; x < q; x++) m0[r] = (m0[r] as number) + (fs[r * q + x] as number) * (emb.mean[x] as number);
  const cf = new Float64Array(k * q);
  for (let r = 0; r < k; r++) for (let x = 0; x < q; x++) {
    let s = 0;
    for (let z = 0; z < q; z++) s += (emb.cov[x * q + z] as number) * (fs[r * q + z] as number);
    cf[r * q + x] = s;
  }
  let ym = 0;
  for (const v of y) ym += v;
  ym /= k;
  const INTERCEPT_VAR = 100;
  const base = new Float64Array(k * k);
  for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) {
    let s = INTERCEPT_VAR;
    for (let x = 0; x < q; x++) s += (fs[a * q + x] as number) * (cf[b * q + x] as number);
    base[a * k + b] = s;
  }
  const resid = Float64Array.from(y, (v, r) => v - ym - (m0[r] as number));
  let best: { alpha: Float64Array; looMse: number; looRes: Float64Array; noise: number; nll: number } | null = null;
  for (const noise of noiseGrid) {
    const g = Float64Array.from(base);
    for (let a = 0; a < k; a++) g[a * k + a] = (g[a * k + a] as number) + noise;
    // inverse column by column (k is small)
    const inv = new Float64Array(k * k);
    for (let c = 0; c < k; c++) {
      const e = new Float64Array(k);
      e[c] = 1;
      const col = solveSpd(g, e, k);
      for (let r = 0; r < k; r++) inv[r * k + c] = col[r] as number;
    }
    const alpha = new Float64Array(k);
    for (let r = 0; r < k; r++) for (let c = 0; c < k; c++) alpha[r] = (alpha[r] as number) + (inv[r * k + c] as number) * (resid[c] as number);
    let quad = 0;
    let loo = 0;
    const looRes = new Float64Array(k);
    for (let r = 0; r < k; r++) {
      quad += (resid[r] as number) * (alpha[r] as number);
      looRes[r] = (alpha[r] as number) / (inv[r * k + r] as number);
      loo += (looRes[r] as number) ** 2;
    }
    // log-determinant for the marginal likelihood (k ≤ a few dozen: Jacobi is cheap enough)
    const { values } = symmetricEigen(g, k);
    let logdet = 0;
    for (const v of values) logdet += Math.log(Math.max(v, 1e-300));
    const nll = 0.5 * quad + 0.5 * logdet;
    if (!best || nll < best.nll) best = { alpha, looMse: loo / k, looRes, noise, nll };
  }
  const b = best as { alpha: Float64Array; looMse: number; looRes: Float64Array; noise: number };
  // posterior coordinates: mean + cov·Fᵀ·alpha; intercept: ym + INTERCEPT_VAR·Σalpha
  const coord = Float64Array.from(emb.mean);
  let icpt = ym;
  for (let r = 0; r < k; r++) {
    icpt += INTERCEPT_VAR * (b.alpha[r] as number);
    for (let x = 0; x < q; x++) coord[x] = (coord[x] as number) + (cf[r * q + x] as number) * (b.alpha[r] as number);
  }
  const n = (emb.features[0] as Float64Array).length;
  const logPred = new Float64Array(n).fill(icpt);
  for (let x = 0; x < q; x++) {
    const f = emb.features[x] as Float64Array;
    const c = coord[x] as number;
    for (let i = 0; i < n; i++) logPred[i] = (logPred[i] as number) + c * (f[i] as number);
  }
  return { logPred, looMse: b.looMse, looRes: b.looRes, noise: b.noise };
}
