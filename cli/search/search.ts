import seedrandom from 'seedrandom';
import type { SearchSpace } from '../../ops-library/index.ts';
import { getLatencyLoss, type LatencyLossName, type LatencyModel } from '../../predictor/differentiable/index.ts';
import { initTf, tf } from '../../predictor/index.ts';
import type { ImageSet } from './mnist.ts';
import { SparseAdam } from './adam.ts';
import { Supernet, type SupernetOptions } from './supernet.ts';

export type Sampler = 'two-path' | 'gumbel';
export const SAMPLERS: readonly Sampler[] = Object.freeze(['two-path', 'gumbel']);

export interface SearchOptions {
  space: SearchSpace;
  /** E[latency] of the space on the target device; null searches for accuracy alone */
  latency: LatencyModel | null;
  loss?: LatencyLossName;
  /** pull E[latency] toward this many ms instead of down */
  targetMs?: number;
  /** the loss's reference latency (default: the target, else E[latency] of uniform probabilities) */
  refMs?: number;
  /** loss weights (ProxylessNAS: alpha, beta for mul#log, lambda for add#linear; FBNet: alpha, beta) */
  alpha?: number;
  beta?: number;
  lambda?: number;
  /** 'two-path' (ProxylessNAS binarised paths, default) or 'gumbel' (FBNet: every candidate, Gumbel-softmax) */
  sampler?: Sampler;
  train: ImageSet;
  test: ImageSet;
  /** weight-only steps before architecture steps start (default 150) */
  warmupSteps?: number;
  /** alternating weight + architecture steps (default 300) */
  searchSteps?: number;
  /** weight steps on the derived architecture alone before its held-out accuracy (default 200) */
  finetuneSteps?: number;
  batchSize?: number;
  weightLr?: number;
  archLr?: number;
  seed?: number;
  supernet?: SupernetOptions;
  onProgress?: (stage: string, done: number, total: number, info: { expectedMs: number | null; ce: number }) => void;
}

export interface SearchResult {
  space: string;
  arch: string;
  /** per layer, the chosen candidate index */
  choices: number[];
  /** softmax(α) at the end, [layers][candidates of the layer] */
  probs: number[][];
  /** E[latency] under the final probabilities, and the model's latency of the derived architecture */
  expectedMs: number | null;
  predictedMs: number | null;
  /** held-out accuracy of the derived architecture (after its fine-tuning), 0..1 */
  accuracy: number;
  testImages: number;
  steps: { warmup: number; search: number; finetune: number };
  seconds: number;
  loss: LatencyLossName | null;
  targetMs: number | null;
  refMs: number | null;
  sampler: Sampler;
}

/**
 * A ProxylessNAS/FBNet-style differentiable architecture search in tfjs on a proxy task: a
 * weight-sharing supernet over the space's positions and candidates (reduced width, small images),
 * architecture parameters α per layer, alternating weight steps (one path per layer sampled from
 * softmax α, on 80% of the training images) and α steps (two sampled paths mixed by their
 * renormalised softmax, or every path under Gumbel-softmax, on the other 20%, with the latency
 * loss on E[latency](softmax α)), then the argmax architecture, fine-tuned alone and scored on the
 * held-out test images.
 *
 * @example
 * const { train, test } = loadMnist();
 * const r = await runSearch({ space: getSpace('fbnet'), latency: await loadLatencyModel('models/fbnet'), train, test });
 * r.arch // 'k3_e1-skip-…'
 */
export async function runSearch(o: SearchOptions): Promise<SearchResult> {
  await initTf();
  const t0 = performance.now();
  const space = o.space;
  const lat = o.latency;
  if (lat && lat.space !== space.name) throw new RangeError(`'space' is '${space.name}' but the latency model is of '${lat.space}'`);
  const sampler = o.sampler ?? 'two-path';
  if (!SAMPLERS.includes(sampler)) throw new RangeError(`'sampler' must be one of ${SAMPLERS.join(', ')}, got '${sampler}'`);
  const lossName = lat ? (o.loss ?? 'proxyless-mul-log') : null;
  const lossFn = lossName ? getLatencyLoss(lossName) : null;
  const steps = { warmup: o.warmupSteps ?? 150, search: o.searchSteps ?? 300, finetune: o.finetuneSteps ?? 200 };
  for (const [k, v] of Object.entries(steps)) if (!Number.isInteger(v) || v < 0) throw new RangeError(`'${k}Steps' must be an integer >= 0, got ${v}`);
  const batch = o.batchSize ?? 64;
  const rng = seedrandom.alea(`search-${space.name}-${o.seed ?? 0}`);
  const L = space.positions.length;
  const C = Math.max(...space.positions.map((p) => p.choices.length));
  const nChoices = space.positions.map((p) => p.choices.length);

  const net = new Supernet(space, { ...o.supernet, seed: o.seed });
  const alpha = tf.variable(tf.zeros([L, C]), true, 'alpha');
  // padding columns (a layer with fewer candidates) never get probability
  const mask = tf.keep(tf.tensor2d(space.positions.flatMap((p) => Array.from({ length: C }, (_, i) => (i < p.choices.length ? 0 : -1e9))), [L, C]));
  const probsOf = (a: tf.Tensor) => tf.softmax(tf.add(a, mask)) as tf.Tensor2D;
  const wOpt = new SparseAdam(o.weightLr ?? 0.01);
  const aOpt = new SparseAdam(o.archLr ?? 0.02);

  // 80% of the training images train weights, 20% train α (as DARTS/ProxylessNAS split train/valid)
  const nW = Math.floor(o.train.count * 0.8);
  const S = o.train.size;
  const px = S * S;
  const batchOf = (set: ImageSet, from: number, count: number, n: number) => {
    const xs = new Float32Array(n * px);
    const ys = new Int32Array(n);
    for (let k = 0; k < n; k++) {
      const i = from + Math.floor(rng() * count);
      xs.set(set.x.subarray(i * px, (i + 1) * px), k * px);
      ys[k] = set.y[i] as number;
    }
    return { x: tf.tensor4d(xs, [n, S, S, 1]), y: tf.tidy(() => tf.oneHot(tf.tensor1d(ys, 'int32'), 10)) };
  };
  const ce = (logits: tf.Tensor2D, y: tf.Tensor) => tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar;

  const currentProbs = () => tf.tidy(() => probsOf(alpha).arraySync() as number[][]);
  const sampleOne = (p: number[]) => {
    let u = rng();
    for (let i = 0; i < p.length; i++) if ((u -= p[i] as number) <= 0) return i;
    return p.length - 1;
  };
  const samplePaths = (k: number): number[][] => {
    const probs = currentProbs();
    return probs.map((row, l) => {
      const n = nChoices[l] as number;
      if (k >= n) return Array.from({ length: n }, (_, i) => i);
      const out: number[] = [];
      const r = row.slice(0, n);
      while (out.length < k) {
        const c = sampleOne(r.map((v, i) => (out.includes(i) ? 0 : v)).map((v, _, a) => v / a.reduce((s, x) => s + x, 0)));
        if (!out.includes(c)) out.push(c);
      }
      return out;
    });
  };

  const weightStep = (paths: number[][]) => {
    const { x, y } = batchOf(o.train, 0, nW, batch);
    const v = wOpt.step(() => ce(net.logits(x, paths, paths.map(() => null)), y), net.varsOf(paths));
    x.dispose();
    y.dispose();
    return v;
  };

  let refMs = o.refMs ?? o.targetMs ?? null;
  if (lat && refMs === null) refMs = tf.tidy(() => lat.expected(probsOf(alpha), { validate: false }).dataSync()[0] as number);
  // the losses see latencies in µs: mul#log and FBNet take log(latency), which must stay > 0, and
  // these CPU networks run in 0.5–5 ms (ProxylessNAS's mobile ones in ~80 ms); add#linear is
  // scale-free, and the others' gradients change only by a constant factor
  const US = 1000;
  const lossOptions = { alpha: o.alpha, beta: o.beta, lambda: o.lambda, ref: refMs === null ? undefined : refMs * US, targetMs: o.targetMs === undefined ? undefined : o.targetMs * US };
  const tauAt = (step: number) => 5 * Math.pow(0.1 / 5, step / Math.max(1, steps.search - 1));
  const latTauAt = (step: number) => Math.pow(0.05, step / Math.max(1, steps.search - 1));

  const archStep = (step: number) => {
    const k = sampler === 'gumbel' ? C : 2;
    const paths = samplePaths(k);
    const { x, y } = batchOf(o.train, nW, o.train.count - nW, batch);
    let ceValue = NaN;
    let expected: number | null = null;
    const gumbel = sampler === 'gumbel' ? tf.tidy(() => tf.neg(tf.log(tf.neg(tf.log(tf.randomUniform([L, C], 1e-6, 1 - 1e-6, 'float32', Math.floor(rng() * 2 ** 31))))))) : null;
    const tau = tauAt(step);
    aOpt.step(() => {
      const logits = tf.add(alpha, mask);
      // the paths' weights: their softmax renormalised over the sampled paths (ProxylessNAS's
      // binarised gates), or the Gumbel-softmax over all candidates (FBNet)
      const mix = paths.map((cs, l) => {
        // the sampled columns picked by a one-hot [C, k] product (tfjs's gather has no wasm gradient)
        const pick = tf.tensor2d(Array.from({ length: C * cs.length }, (_, q) => (cs[q % cs.length] === Math.floor(q / cs.length) ? 1 : 0)), [C, cs.length]);
        let row = tf.matMul(tf.slice(logits, [l, 0], [1, C]), pick);
        if (gumbel) row = tf.div(tf.add(row, tf.matMul(tf.slice(gumbel, [l, 0], [1, C]), pick)), tau);
        return tf.reshape(tf.softmax(row), [cs.length]) as tf.Tensor1D;
      });
      const c = ce(net.logits(x, paths, mix), y);
      ceValue = c.dataSync()[0] as number;
      if (!lat || !lossFn) return c;
      // the latency term sees softmax(α/τ) with τ annealed 1 → 0.05: early it is ProxylessNAS's
      // E[latency] under softmax α; by the end it is (nearly) the latency of the argmax
      // architecture that is derived, so a target is met by that architecture, not by a blend
      const e = lat.expected(probsOf(tf.div(alpha, latTauAt(step))), { validate: false });
      expected = e.dataSync()[0] as number;
      return lossFn(c, tf.mul(e, US) as tf.Scalar, lossOptions);
    }, [alpha]);
    gumbel?.dispose();
    x.dispose();
    y.dispose();
    return { ce: ceValue, expected };
  };

  const progress = o.onProgress ?? (() => {});
  const total = steps.warmup + steps.search + steps.finetune;
  let done = 0;
  try {
    // warm-up trains the largest candidate of every layer (OFA's progressive shrinking starts
    // there): with shared weights every smaller candidate inherits a trained prefix/centre, where
    // uniformly sampled paths did not learn at all in hundreds of steps at this scale
    const largest = net.largestPaths();
    for (let s = 0; s < steps.warmup; s++) {
      const v = weightStep(largest);
      if (++done % 10 === 0) progress('warm-up', done, total, { expectedMs: null, ce: v });
    }
    for (let s = 0; s < steps.search; s++) {
      weightStep(samplePaths(1));
      const r = archStep(s);
      if (++done % 10 === 0) progress('search', done, total, { expectedMs: r.expected, ce: r.ce });
    }
    const probs = currentProbs().map((row, l) => row.slice(0, nChoices[l]));
    const choices = probs.map((row) => row.indexOf(Math.max(...row)));
    const paths = choices.map((c) => [c]);
    for (let s = 0; s < steps.finetune; s++) {
      const v = weightStep(paths);
      if (++done % 10 === 0) progress('fine-tune', done, total, { expectedMs: null, ce: v });
    }
    // held-out accuracy of the derived architecture (batch statistics over 500-image chunks)
    let correct = 0;
    for (let from = 0; from < o.test.count; from += 500) {
      const n = Math.min(500, o.test.count - from);
      correct += tf.tidy(() => {
        const x = tf.tensor4d(o.test.x.subarray(from * px, (from + n) * px), [n, S, S, 1]);
        const pred = tf.argMax(net.logits(x, paths, paths.map(() => null)), 1).dataSync();
        let ok = 0;
        for (let i = 0; i < n; i++) if (pred[i] === o.test.y[from + i]) ok++;
        return ok;
      });
    }
    const arch = space.format(choices.map((c, l) => (space.positions[l]?.choices[c]?.name as string)));
    const grid = (rows: number[][]) => rows.map((r) => Array.from({ length: C }, (_, i) => r[i] ?? 0));
    const expectedMs = lat ? tf.tidy(() => lat.expected(grid(probs).map((r) => r.map((v) => v / r.reduce((a, b) => a + b, 0)))).dataSync()[0] as number) : null;
    const predictedMs = lat ? tf.tidy(() => lat.expected(choices.map((c) => Array.from({ length: C }, (_, i) => (i === c ? 1 : 0)))).dataSync()[0] as number) : null;
    return {
      space: space.name, arch, choices, probs, expectedMs, predictedMs, accuracy: correct / o.test.count, testImages: o.test.count, steps,
      seconds: (performance.now() - t0) / 1000, loss: lossName, targetMs: o.targetMs ?? null, refMs, sampler,
    };
  } finally {
    net.dispose();
    alpha.dispose();
    mask.dispose();
    wOpt.dispose();
    aOpt.dispose();
  }
}
