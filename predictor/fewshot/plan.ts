import seedrandom from 'seedrandom';
import { encodeArchs, oneHotMeans } from './encode.ts';
import { referenceMatrix } from './reference.ts';
import type { PlanOptions } from './types.ts';

/**
 * Proposes which K architectures a new device should measure: K representative architectures of
 * the fleet's latency structure, by k-means (k-means++ start, 10 Lloyd rounds) over the reference
 * devices' standardised log-latencies, each centre replaced by its nearest unused candidate, from
 * a seeded pool of candidates. With no usable reference device it clusters the one-hot choices
 * instead: representative architectures, not extreme ones, are what pin a device's typical
 * latencies (docs/benchmarks.md, few-shot transfer: k-means vs leverage plans). Returns architecture indices into `archs`.
 *
 * @example
 * const space = getSpace('fbnet');
 * const archs = sampleArchs(space, { count: 100, seed: 2 });
 * planFewShot({ space, archs, reference: { devices: [], ms: [] }, k: 5 }).length // 5
 */
export function planFewShot(options: PlanOptions): number[] {
  const { space, archs, reference, k, seed = 0, pool = 3000 } = options;
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`'k' must be an integer >= 1, got ${k}`);
  if (k > archs.length) throw new RangeError(`'k' (${k}) exceeds the number of architectures (${archs.length})`);
  const codes = encodeArchs(space, archs);
  const ref = referenceMatrix(codes, reference);
  // candidate pool: a seeded subset keeps planning fast on big tables
  const rng = seedrandom.alea(`hwlat-fewshot-plan-${seed}`);
  const order = Array.from({ length: codes.n }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  const cand = order.slice(0, Math.max(k, Math.min(pool, codes.n)));
  let dim: number;
  let feature: (i: number, out: Float64Array) => void;
  if (ref.cols.length > 0) {
    dim = ref.cols.length;
    const sd = ref.cols.map((c) => Math.sqrt(c.reduce((a, v) => a + v * v, 0) / c.length) || 1);
    feature = (i, out) => ref.cols.forEach((c, d) => (out[d] = (c[i] as number) / (sd[d] as number)));
  } else {
    dim = codes.width;
    const mu = oneHotMeans(codes);
    feature = (i, out) => {
      for (let w = 0; w < dim; w++) out[w] = -(mu[w] as number);
      for (let j = 0; j < codes.p; j++) out[codes.codes[i * codes.p + j] as number] = (out[codes.codes[i * codes.p + j] as number] as number) + 1;
    };
  }
  const feats = cand.map((i) => {
    const f = new Float64Array(dim);
    feature(i, f);
    return f;
  });
  return options.method === 'leverage' ? leveragePicks(feats, dim, k).map((c) => cand[c] as number) : kmeansPicks(feats, dim, k, rng).map((c) => cand[c] as number);
}

function dist(a: Float64Array, b: Float64Array, dim: number): number {
  let s = 0;
  for (let x = 0; x < dim; x++) s += ((a[x] as number) - (b[x] as number)) ** 2;
  return s;
}

/** K candidates nearest to the centres of a k-means clustering (k-means++ start, 10 Lloyd rounds). */
function kmeansPicks(feats: Float64Array[], dim: number, k: number, rng: () => number): number[] {
  // k-means++ start
  const centres: Float64Array[] = [Float64Array.from(feats[Math.floor(rng() * feats.length)] as Float64Array)];
  const near = feats.map((f) => dist(f, centres[0] as Float64Array, dim));
  while (centres.length < k) {
    const total = near.reduce((a, v) => a + v, 0);
    let r = rng() * total;
    let pick = 0;
    for (; pick < feats.length - 1 && r > (near[pick] as number); pick++) r -= near[pick] as number;
    const c = Float64Array.from(feats[pick] as Float64Array);
    centres.push(c);
    feats.forEach((f, i) => (near[i] = Math.min(near[i] as number, dist(f, c, dim))));
  }
  // Lloyd rounds
  const assign = new Int32Array(feats.length);
  for (let round = 0; round < 10; round++) {
    feats.forEach((f, i) => {
      let best = 0;
      let bd = Infinity;
      centres.forEach((c, j) => {
        const d = dist(f, c, dim);
        if (d < bd) {
          bd = d;
          best = j;
        }
      });
      assign[i] = best;
    });
    centres.forEach((c, j) => {
      const sum = new Float64Array(dim);
      let n = 0;
      feats.forEach((f, i) => {
        if (assign[i] !== j) return;
        n++;
        for (let x = 0; x < dim; x++) sum[x] = (sum[x] as number) + (f[x] as number);
      });
      if (n > 0) for (let x = 0; x < dim; x++) c[x] = (sum[x] as number) / n;
    });
  }
  const used = new Set<number>();
  return centres.map((c) => {
    let best = -1;
    let bd = Infinity;
    feats.forEach((f, i) => {
      if (used.has(i)) return;
      const d = dist(f, c, dim);
      if (d < bd) {
        bd = d;
        best = i;
      }
    });
    used.add(best);
    return best;
  });
}

/** Greedy D-optimal picks: each the candidate of largest ridge leverage given the picks so far. */
function leveragePicks(feats: Float64Array[], dim: number, k: number): number[] {
  const minv = new Float64Array(dim * dim);
  for (let a = 0; a < dim; a++) minv[a * dim + a] = 1;
  const picked: number[] = [];
  const mf = new Float64Array(dim);
  const quad = (f: Float64Array, out?: Float64Array) => {
    let s = 0;
    for (let a = 0; a < dim; a++) {
      let t = 0;
      for (let b = 0; b < dim; b++) t += (minv[a * dim + b] as number) * (f[b] as number);
      if (out) out[a] = t;
      s += (f[a] as number) * t;
    }
    return s;
  };
  for (let step = 0; step < k; step++) {
    let best = -1;
    let bestScore = -Infinity;
    feats.forEach((f, c) => {
      if (picked.includes(c)) return;
      const s = quad(f);
      if (s > bestScore + 1e-12) {
        bestScore = s;
        best = c;
      }
    });
    picked.push(best);
    quad(feats[best] as Float64Array, mf);
    for (let a = 0; a < dim; a++) for (let b = 0; b < dim; b++) minv[a * dim + b] = (minv[a * dim + b] as number) - ((mf[a] as number) * (mf[b] as number)) / (1 + bestScore);
  }
  return picked;
}
