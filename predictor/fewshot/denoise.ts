import { additiveValues, type ArchCodes } from './encode.ts';
import { solveSpd } from './linalg.ts';
import { fitAdditiveLog, type ReferenceMatrix } from './reference.ts';

/**
 * Reference devices needed before their columns are denoised: with fewer, "shared by the other
 * devices" cannot tell an architecture's real non-additive cost from one device's noise.
 */
export const DENOISE_MIN_DEVICES = 3;

const cache = new WeakMap<ReferenceMatrix, ReferenceMatrix>();

/**
 * Splits each reference device's log-latency column into what carries over to a new device and
 * what does not: its per-choice cost table (an additive log model fitted on every architecture),
 * plus the part of its non-additive residual that the other reference devices' residuals share
 * (least-squares projection onto them: interactions such as NAS-Bench-201's disconnected paths
 * appear on every device, one phone's measurement noise on none). Noise of a reference column
 * otherwise goes straight into every prediction that leans on that device. No free parameters;
 * with fewer than DENOISE_MIN_DEVICES devices the columns are returned as they are. Cached per
 * matrix (the evaluation reuses one matrix across seeds and K).
 *
 * @example
 * const codes = encodeArchs(space, archs);
 * const clean = denoiseReference(codes, referenceMatrix(codes, reference));
 * clean.cols.length === clean.devices.length // true
 */
export function denoiseReference(codes: ArchCodes, ref: ReferenceMatrix): ReferenceMatrix {
  const d = ref.cols.length;
  if (d < DENOISE_MIN_DEVICES) return ref;
  const hit = cache.get(ref);
  if (hit) return hit;
  const n = codes.n;
  const all = Array.from({ length: n }, (_, i) => i);
  const additive = ref.cols.map((col) => {
    const v = additiveValues(codes, fitAdditiveLog(codes, col, all).costs);
    let mean = 0;
    for (const x of v) mean += x;
    mean /= n;
    return v.map((x) => x - mean);
  });
  const residual = ref.cols.map((col, c) => col.map((v, i) => v - ((additive[c] as Float64Array)[i] as number)));
  // Gram matrix of the residual columns (d × d, d is at most a few dozen)
  const g = new Float64Array(d * d);
  for (let a = 0; a < d; a++) {
    const ra = residual[a] as Float64Array;
    for (let b = a; b < d; b++) {
      const rb = residual[b] as Float64Array;
      let s = 0;
      for (let i = 0; i < n; i++) s += (ra[i] as number) * (rb[i] as number);
      g[a * d + b] = s;
      g[b * d + a] = s;
    }
  }
  const cols = additive.map((add, a) => {
    const others = Array.from({ length: d - 1 }, (_, x) => (x < a ? x : x + 1));
    const q = others.length;
    const sub = new Float64Array(q * q);
    const rhs = new Float64Array(q);
    others.forEach((b, x) => {
      rhs[x] = g[b * d + a] as number;
      // a whisker of ridge: two reference devices can have identical residuals
      others.forEach((c, y) => (sub[x * q + y] = (g[b * d + c] as number) + (x === y ? 1e-9 * (g[b * d + b] as number) : 0)));
    });
    const w = solveSpd(sub, rhs, q);
    const out = Float64Array.from(add);
    others.forEach((b, x) => {
      const rb = residual[b] as Float64Array;
      const wx = w[x] as number;
      for (let i = 0; i < n; i++) out[i] = (out[i] as number) + wx * (rb[i] as number);
    });
    return out;
  });
  const clean: ReferenceMatrix = { devices: ref.devices, cols, imputed: ref.imputed };
  cache.set(ref, clean);
  return clean;
}
