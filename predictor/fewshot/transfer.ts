import jstat from 'jstat';
import { choiceTableBasis } from './basis.ts';
import { denoiseReference } from './denoise.ts';
import { deviceEmbedding, EMBEDDING_MIN_DEVICES, embeddingModel } from './embedding.ts';
import { encodeArchs, oneHotMeans, type ArchCodes } from './encode.ts';
import { ridgeProjector, solveSpd } from './linalg.ts';
import { physicalFeatures } from './physical.ts';
import { referenceMatrix, type ReferenceMatrix } from './reference.ts';
import type { FewShotInput, FewShotResult, TargetSample } from './types.ts';

/**
 * Fixed hyperparameters, chosen once by leave-one-device-out on the HELP devices (both spaces,
 * all K) and never per device; see docs/benchmarks.md.
 * - SHRINK: ridge pulling a candidate's slopes toward its prior (1 for one device, ½ + ½ for a
 *   pair), in units of K × the device's log-variance: ten samples cannot pin a free slope.
 * - PAIRS_FROM_K: pairs of reference devices join the candidates from this many samples on.
 * - TEMPERATURE: candidate weights are exp(−(LOO error − best) / (TEMPERATURE × best)).
 * - PHYSICAL_RIDGES: ridge levels of the physical candidates (FLOPs, memory, kernels; linear space).
 * - ARCH_RIDGE_PER_POSITION: ridge of the architecture (one-hot, per-choice cost) correction,
 *   per searchable position: the correction only moves what the K residuals agree on.
 * - MAX_FACTOR: a target sample that the model fitted on the other samples misses by more than
 *   this factor is a broken measurement and is dropped (at most ⌊K/5⌋ of them); set once, not swept.
 * - BASIS_RIDGES: ridge levels of the device-basis candidates (the reference devices' per-choice
 *   ms tables and the physical tables, mixed in linear space; basis.ts); the physical ones' grid
 *   moved down a decade, set once, not swept.
 * - INTERVAL: nominal coverage of the per-prediction intervals (see predictionInterval).
 * The reference columns are denoised first (denoise.ts: per-choice cost table + the non-additive
 * part the other reference devices share; from DENOISE_MIN_DEVICES = 3 devices on), a rule with
 * no parameter of its own. The candidate average is then blended with a Bayesian device-embedding
 * model (embedding.ts) by inverse leave-one-out error, again a fixed rule, from
 * EMBEDDING_MIN_DEVICES = 12 reference devices on (a Gaussian prior needs a population).
 */
export const FEWSHOT_HYPERPARAMETERS = Object.freeze({ SHRINK: 1, PAIRS_FROM_K: 5, TEMPERATURE: 0.35, ARCH_RIDGE_PER_POSITION: 2, PHYSICAL_RIDGES: Object.freeze([0.01, 0.1, 1]), MAX_FACTOR: 3, BASIS_RIDGES: Object.freeze([1e-3, 1e-2, 0.1]), INTERVAL: 0.9 });

interface Candidate {
  looMse: number;
  /** leave-one-out residuals (log space) on the K samples */
  looRes: Float64Array;
  intercept: number;
  /** [reference column, coefficient] */
  terms: Array<[number, number]>;
  /** a linear-space candidate (not log-linear in the reference columns): ms ≈ scale·(c0 + Σ coef·feature) */
  linear?: LinearFit;
}

interface LinearFit {
  coef: Float64Array;
  feats: readonly Float64Array[];
  scale: number;
  floor: number;
  /** the device basis (reference per-choice tables) is among the features */
  basis: boolean;
}

/** A linear-space candidate's log prediction at architecture i. */
function linearAt(l: LinearFit, i: number): number {
  let v = l.coef[0] as number;
  for (let j = 0; j < l.feats.length; j++) v += (l.coef[j + 1] as number) * ((l.feats[j] as Float64Array)[i] as number);
  return Math.log(Math.max(v * l.scale, l.floor));
}

/** Ridge fit of t on the small design z (k×q) and its leave-one-out fitted values (hat-matrix form). */
function looRidge(z: Float64Array, k: number, q: number, t: Float64Array, penalty: readonly number[]): { coef: Float64Array; looFit: Float64Array } {
  const proj = ridgeProjector(z, k, q, penalty);
  const coef = new Float64Array(q);
  for (let i = 0; i < q; i++) {
    let s = 0;
    for (let r = 0; r < k; r++) s += (proj[i * k + r] as number) * (t[r] as number);
    coef[i] = s;
  }
  const looFit = new Float64Array(k);
  for (let r = 0; r < k; r++) {
    let fit = 0;
    let h = 0;
    for (let i = 0; i < q; i++) {
      fit += (z[r * q + i] as number) * (coef[i] as number);
      h += (z[r * q + i] as number) * (proj[i * k + r] as number);
    }
    looFit[r] = (t[r] as number) - ((t[r] as number) - fit) / Math.max(1 - h, 1e-6);
  }
  return { coef, looFit };
}

/** A candidate `y ≈ c0 + Σ (prior_j + c_j) x_j` (log space) with ridge on the c_j, and its LOO error. */
function fitCandidate(cols: number[], ref: ReferenceMatrix, variances: Float64Array, idx: readonly number[], y: Float64Array): Candidate {
  const k = idx.length;
  const m = cols.length;
  const prior = 1 / m;
  const q = m + 1;
  const z = new Float64Array(k * q);
  const t = new Float64Array(k);
  let v = 0;
  for (const c of cols) v += variances[c] as number;
  v /= m;
  for (let r = 0; r < k; r++) {
    z[r * q] = 1;
    let base = 0;
    cols.forEach((c, j) => {
      const x = (ref.cols[c] as Float64Array)[idx[r] as number] as number;
      z[r * q + 1 + j] = x;
      base += prior * x;
    });
    t[r] = (y[r] as number) - base;
  }
  const { coef, looFit } = looRidge(z, k, q, t, [1e-9, ...cols.map(() => FEWSHOT_HYPERPARAMETERS.SHRINK * v * k)]);
  const looRes = Float64Array.from(t, (tr, r) => tr - (looFit[r] as number));
  return { looMse: meanSquare(looRes), looRes, intercept: coef[0] as number, terms: cols.map((c, j) => [c, prior + (coef[j + 1] as number)]) };
}

function meanSquare(v: ArrayLike<number>): number {
  let s = 0;
  for (let r = 0; r < v.length; r++) s += (v[r] as number) ** 2;
  return v.length === 0 ? 0 : s / v.length;
}

/**
 * Linear-space candidates: ms ≈ c0 + Σ α_f feature_f, where an additive cost model lives, one per
 * ridge level (λ·K). Used with the physical features (FLOPs, memory traffic, kernel count of the
 * chosen candidates) alone, and with the reference devices' per-choice ms tables beside them (the
 * device basis, basis.ts). Their LOO error is measured in log space like the others'.
 */
function linearCandidates(feats: readonly Float64Array[], ridges: readonly number[], idx: readonly number[], y: Float64Array, basis: boolean): Candidate[] {
  const k = idx.length;
  const f = feats.length;
  if (f === 0 || k < 3) return [];
  const ms = Array.from(y, Math.exp);
  const scale = ms.reduce((a, v) => a + v, 0) / k;
  const floor = 1e-3 * Math.min(...ms);
  const q = f + 1;
  const z = new Float64Array(k * q);
  idx.forEach((i, r) => {
    z[r * q] = 1;
    feats.forEach((col, j) => (z[r * q + 1 + j] = col[i] as number));
  });
  const t = Float64Array.from(ms, (v) => v / scale);
  return ridges.map((lam) => {
    const { coef, looFit } = looRidge(z, k, q, t, [1e-9, ...feats.map(() => lam * k)]);
    const looRes = Float64Array.from(y, (yr, r) => yr - Math.log(Math.max((looFit[r] as number) * scale, 1e-3 * (ms[r] as number))));
    return { looMse: meanSquare(looRes), looRes, intercept: 0, terms: [], linear: { coef, feats, scale, floor, basis } };
  });
}

/**
 * One-parameter candidates: the new device as one table times a factor, ms = s · table (a
 * reference device's per-choice ms table, or FLOPs / memory / kernels alone). Where K noisy samples
 * cannot pin the slopes of a mix (a phone far from the fleet), a single fitted factor is what they
 * can pin; the factor is the geometric mean of the samples' ratios, its LOO error closed-form.
 */
function scaledCandidates(tables: readonly Float64Array[], idx: readonly number[], y: Float64Array, basis: boolean): Candidate[] {
  const k = idx.length;
  if (k < 3) return [];
  const floor = 1e-3 * Math.exp(Math.min(...y));
  return tables.flatMap((table) => {
    if (idx.some((i) => !((table[i] as number) > 0))) return [];
    const r = Float64Array.from(idx, (i, j) => (y[j] as number) - Math.log(table[i] as number));
    const c = r.reduce((a, v) => a + v, 0) / k;
    const looRes = r.map((v) => ((v - c) * k) / (k - 1));
    return [{ looMse: meanSquare(looRes), looRes, intercept: 0, terms: [], linear: { coef: Float64Array.from([0, Math.exp(c)]), feats: [table], scale: 1, floor, basis } }];
  });
}

interface ReferenceModel {
  intercept: number;
  beta: Float64Array;
  /** linear-space candidates and their weights */
  extra: Array<{ weight: number; fit: LinearFit }>;
  /** the best candidate's leave-one-out RMS error (log space) */
  looRmse: number;
  /** leave-one-out residuals of the weighted average (log space), one per sample */
  looRes: Float64Array;
}

/**
 * The reference part: every single reference device (and, from PAIRS_FROM_K samples on, every
 * pair) as a log-linear model of the new device fitted on the K samples, the physical candidates,
 * the device-basis candidates (reference per-choice ms tables + physical tables, linear space) and
 * every one of those tables alone times a factor, averaged in log space with weights
 * exp(−(LOO error − best) / (T × best)).
 */
function referenceModel(ref: ReferenceMatrix, phys: readonly Float64Array[], basis: readonly Float64Array[], idx: readonly number[], y: Float64Array): ReferenceModel {
  const d = ref.cols.length;
  const beta = new Float64Array(d);
  const variances = new Float64Array(d);
  ref.cols.forEach((col, c) => {
    let s = 0;
    for (const v of col) s += v * v;
    variances[c] = s / col.length;
  });
  const cands: Candidate[] = [];
  for (let a = 0; a < d; a++) cands.push(fitCandidate([a], ref, variances, idx, y));
  if (idx.length >= FEWSHOT_HYPERPARAMETERS.PAIRS_FROM_K) {
    for (let a = 0; a < d; a++) for (let b = a + 1; b < d; b++) cands.push(fitCandidate([a, b], ref, variances, idx, y));
  }
  cands.push(...linearCandidates(phys, FEWSHOT_HYPERPARAMETERS.PHYSICAL_RIDGES, idx, y, false));
  if (basis.length > 0) cands.push(...linearCandidates([...basis, ...phys], FEWSHOT_HYPERPARAMETERS.BASIS_RIDGES, idx, y, true));
  cands.push(...scaledCandidates(phys, idx, y, false), ...scaledCandidates(basis, idx, y, true));
  if (cands.length === 0) {
    let mean = 0;
    for (const v of y) mean += v;
    mean /= y.length;
    // leave-one-out of the mean alone
    const k = y.length;
    return { intercept: mean, beta, extra: [], looRmse: Number.NaN, looRes: Float64Array.from(y, (v) => ((v - mean) * k) / (k - 1)) };
  }
  const best = Math.min(...cands.map((c) => c.looMse));
  const scale = FEWSHOT_HYPERPARAMETERS.TEMPERATURE * best + 1e-12;
  const ws = cands.map((c) => Math.exp(-(c.looMse - best) / scale));
  const total = ws.reduce((a, w) => a + w, 0);
  let intercept = 0;
  const extra: Array<{ weight: number; fit: LinearFit }> = [];
  const looRes = new Float64Array(y.length);
  cands.forEach((c, n) => {
    const w = (ws[n] as number) / total;
    for (let r = 0; r < y.length; r++) looRes[r] = (looRes[r] as number) + w * (c.looRes[r] as number);
    if (c.linear) {
      if (w > 1e-9) extra.push({ weight: w, fit: c.linear });
      return;
    }
    intercept += w * c.intercept;
    for (const [col, coef] of c.terms) beta[col] = (beta[col] as number) + w * coef;
  });
  return { intercept, beta, extra, looRmse: Math.sqrt(best), looRes };
}

/**
 * The architecture part: kernel ridge on centred one-hot choices (a per-choice cost table in log
 * space) fitted to what the reference part leaves unexplained on the K samples.
 */
function archCorrection(codes: ArchCodes, idx: readonly number[], residual: Float64Array): Float64Array {
  const k = idx.length;
  const mu = oneHotMeans(codes);
  const { p, width } = codes;
  // centred one-hot rows of the K samples
  const xs = new Float64Array(k * width);
  for (let r = 0; r < k; r++) {
    for (let w = 0; w < width; w++) xs[r * width + w] = -(mu[w] as number);
    for (let j = 0; j < p; j++) {
      const c = codes.codes[(idx[r] as number) * p + j] as number;
      xs[r * width + c] = (xs[r * width + c] as number) + 1;
    }
  }
  const g = new Float64Array(k * k);
  for (let a = 0; a < k; a++) {
    for (let b = 0; b < k; b++) {
      let s = 0;
      for (let w = 0; w < width; w++) s += (xs[a * width + w] as number) * (xs[b * width + w] as number);
      g[a * k + b] = s + (a === b ? FEWSHOT_HYPERPARAMETERS.ARCH_RIDGE_PER_POSITION * p : 0);
    }
  }
  const alpha = solveSpd(g, residual, k);
  const v = new Float64Array(width);
  for (let r = 0; r < k; r++) for (let w = 0; w < width; w++) v[w] = (v[w] as number) + (alpha[r] as number) * (xs[r * width + w] as number);
  let offset = 0;
  for (let w = 0; w < width; w++) offset += (mu[w] as number) * (v[w] as number);
  const out = new Float64Array(codes.n);
  for (let i = 0; i < codes.n; i++) {
    let s = -offset;
    for (let j = 0; j < p; j++) s += v[codes.codes[i * p + j] as number] as number;
    out[i] = s;
  }
  return out;
}

/** Log prediction of referenceModel's output at one architecture. */
function referenceAt(ref: ReferenceMatrix, model: ReferenceModel, i: number): number {
  let v = model.intercept;
  ref.cols.forEach((col, c) => (v += (model.beta[c] as number) * (col[i] as number)));
  for (const e of model.extra) v += e.weight * linearAt(e.fit, i);
  return v;
}

/**
 * Drops broken measurements among the K samples (HELP's pixel3 column holds 0.003 ms entries):
 * up to ⌊K/5⌋ times, the sample the reference model fitted on the others misses by the widest
 * factor is dropped if that factor exceeds MAX_FACTOR. Returns the positions (into idx) kept.
 */
function screenSamples(ref: ReferenceMatrix, phys: readonly Float64Array[], basis: readonly Float64Array[], idx: readonly number[], y: Float64Array): number[] {
  let keep = idx.map((_, r) => r);
  for (let drop = 0; drop < Math.floor(idx.length / 5) && keep.length >= 5; drop++) {
    let worst = -1;
    let worstErr = Math.log(FEWSHOT_HYPERPARAMETERS.MAX_FACTOR);
    for (const r of keep) {
      const others = keep.filter((x) => x !== r);
      const m = referenceModel(ref, phys, basis, others.map((x) => idx[x] as number), Float64Array.from(others, (x) => y[x] as number));
      const err = Math.abs((y[r] as number) - referenceAt(ref, m, idx[r] as number));
      if (err > worstErr) {
        worstErr = err;
        worst = r;
      }
    }
    if (worst < 0) break;
    keep = keep.filter((x) => x !== worst);
  }
  return keep;
}

function checkTarget(target: readonly TargetSample[], n: number): void {
  if (target.length < 2) throw new RangeError(`'target' needs at least 2 measurements of the new device, got ${target.length}`);
  const seen = new Set<number>();
  target.forEach((t, r) => {
    if (!Number.isInteger(t.index) || t.index < 0 || t.index >= n) throw new RangeError(`'target[${r}].index' must be an architecture index in 0..${n - 1}, got ${t.index}`);
    if (!(Number.isFinite(t.ms) && t.ms > 0)) throw new RangeError(`'target[${r}].ms' must be a positive number, got ${t.ms}`);
    if (seen.has(t.index)) throw new RangeError(`'target[${r}]' repeats architecture index ${t.index}`);
    seen.add(t.index);
  });
}

/**
 * Predicts a new device's latency on every architecture from a few of its measurements and the
 * reference devices' tables. The reference columns are first reduced to what carries over to
 * another device (per-choice cost table + non-additive structure the reference devices share,
 * see denoiseReference). In log space: a weighted average of log-linear models on single
 * reference devices and pairs (slopes shrunk toward their priors), of linear-space models on the
 * physical tables, and of the device basis — the new device's per-choice ms table as a combination
 * of the reference devices' and the physical tables (basis.ts), which is where a device unlike
 * every reference device lands — weights from their leave-one-out error on the K samples; then a
 * shrunk per-choice cost correction for what none of them explains. Every prediction comes with a
 * 90% interval from the leave-one-out residuals. Pure and deterministic.
 *
 * @example
 * const space = getSpace('nasbench201');
 * const archs = sampleArchs(space, { count: 50, seed: 1 });
 * const ref = { devices: ['gpu'], ms: [archs.map((_, i) => 5 + (i % 7))] };
 * const out = fewShotPredict({ space, archs, reference: ref, target: [{ index: 0, ms: 10 }, { index: 1, ms: 12 }, { index: 2, ms: 14 }] });
 * out.ms.length // 50
 */
export function fewShotPredict(input: FewShotInput): FewShotResult {
  const codes = encodeArchs(input.space, input.archs);
  checkTarget(input.target, codes.n);
  return fewShotPredictPrepared(codes, referenceMatrix(codes, input.reference), input.target, physicalFeatures(input.space, codes));
}

/**
 * fewShotPredict on already encoded architectures and an already built reference matrix (the
 * evaluation reuses both across seeds and K).
 */
export function fewShotPredictPrepared(codes: ArchCodes, measured: ReferenceMatrix, target: readonly TargetSample[], phys: readonly Float64Array[] = []): FewShotResult {
  checkTarget(target, codes.n);
  const ref = denoiseReference(codes, measured);
  // the basis from the measured columns: its own per-choice fit (in ms, over every architecture) is
  // the denoising there, while the log-space denoising would bend a device that is additive in ms
  const basis = measured.cols.length > 0 ? choiceTableBasis(codes, measured) : [];
  const kept = screenSamples(ref, phys, basis, target.map((t) => t.index), Float64Array.from(target, (t) => Math.log(t.ms)));
  const idx = kept.map((r) => (target[r] as TargetSample).index);
  const y = Float64Array.from(kept, (r) => Math.log((target[r] as TargetSample).ms));
  const model = referenceModel(ref, phys, basis, idx, y);
  const base = new Float64Array(codes.n).fill(model.intercept);
  ref.cols.forEach((col, c) => {
    const b = model.beta[c] as number;
    if (b !== 0) for (let i = 0; i < codes.n; i++) base[i] = (base[i] as number) + b * (col[i] as number);
  });
  for (const { weight, fit } of model.extra) for (let i = 0; i < codes.n; i++) base[i] = (base[i] as number) + weight * linearAt(fit, i);
  // the population view: the new device as a draw from the reference devices' embedding, blended
  // in by inverse leave-one-out error (the candidates' is their best one's: optimistic, so the
  // embedding only takes over where it clearly fits the K samples better)
  let embeddingWeight = 0;
  let looRes = model.looRes;
  const emb = idx.length >= 3 && ref.cols.length >= EMBEDDING_MIN_DEVICES ? deviceEmbedding(ref) : null;
  if (emb && Number.isFinite(model.looRmse)) {
    const e = embeddingModel(emb, idx, y);
    const inv = 1 / Math.max(e.looMse, 1e-12);
    embeddingWeight = inv / (inv + 1 / Math.max(model.looRmse ** 2, 1e-12));
    for (let i = 0; i < codes.n; i++) base[i] = (1 - embeddingWeight) * (base[i] as number) + embeddingWeight * (e.logPred[i] as number);
    looRes = Float64Array.from(looRes, (v, r) => (1 - embeddingWeight) * v + embeddingWeight * (e.looRes[r] as number));
  }
  const residual = Float64Array.from(idx, (i, r) => (y[r] as number) - (base[i] as number));
  const corr = archCorrection(codes, idx, residual);
  const ms = new Float64Array(codes.n);
  for (let i = 0; i < codes.n; i++) ms[i] = Math.exp((base[i] as number) + (corr[i] as number));
  const { lo, hi, sigma } = predictionInterval(ms, looRes);
  const weights = ref.devices.map((device, c) => ({ device, weight: (1 - embeddingWeight) * (model.beta[c] as number) })).sort((a, b) => Math.abs(b.weight) - Math.abs(a.weight));
  const linearShare = (basisOnes: boolean) => (1 - embeddingWeight) * model.extra.reduce((a, e) => a + (e.fit.basis === basisOnes ? e.weight : 0), 0);
  return { ms, lo, hi, interval: FEWSHOT_HYPERPARAMETERS.INTERVAL, logSigma: sigma, devicesUsed: ref.devices, weights, physicalWeight: linearShare(false), basisWeight: linearShare(true), embeddingWeight, looRmse: model.looRmse, imputed: ref.imputed };
}

/**
 * The INTERVAL (90%) prediction interval of every architecture: log prediction ± t·σ, where σ² is
 * the sum of the prediction's squared leave-one-out residuals on the K samples over K − 2 (the
 * candidates' own residuals averaged with their weights, blended like the predictions; the 2 is
 * the intercept and slope every candidate fits, and the weights are themselves picked on those
 * residuals) and t Student's quantile with K − 2 degrees of freedom, since σ itself comes from K
 * samples. A device the references explain gets a narrow band, a noisy or far one a wide band.
 */
function predictionInterval(ms: Float64Array, looRes: Float64Array): { lo: Float64Array; hi: Float64Array; sigma: number } {
  const k = looRes.length;
  const dof = Math.max(1, k - 2);
  const sigma = Math.sqrt((meanSquare(looRes) * k) / dof);
  const f = Math.exp(jstat.studentt.inv((1 + FEWSHOT_HYPERPARAMETERS.INTERVAL) / 2, dof) * sigma);
  return { lo: ms.map((v) => v / f), hi: ms.map((v) => v * f), sigma };
}

