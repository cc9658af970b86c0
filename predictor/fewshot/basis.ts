import type { ArchCodes } from './encode.ts';
import { additiveValues } from './encode.ts';
import { solveSpd } from './linalg.ts';
import type { ReferenceMatrix } from './reference.ts';

// ridge of each reference device's per-choice ms table: small, a table is fitted on every architecture
const TABLE_RIDGE = 1;

const cache = new WeakMap<ReferenceMatrix, Float64Array[]>();

/**
 * Each reference device's per-choice cost table in milliseconds (linear space, where a network's
 * latency is the sum of its layers'), evaluated on every architecture and divided by its mean: a
 * basis of latency tables in which a new device's table is sought as a combination (plus the
 * physical FLOPs / memory / kernel tables). Unlike a log-space combination of whole reference
 * columns, a linear mix of per-choice tables is again a per-choice table, so a device that sits
 * between reference devices layer by layer (a big-batch GPU whose twin is missing) is inside the
 * basis. Built from the measured log columns of `ref` (the table fit over every architecture is
 * the denoising here), whose level is lost in centring; the division by the mean makes every
 * column scale-free anyway. Cached per matrix.
 *
 * @example
 * const basis = choiceTableBasis(codes, referenceMatrix(codes, reference));
 * basis.length === reference.devices.length // for devices with usable columns
 */
export function choiceTableBasis(codes: ArchCodes, ref: ReferenceMatrix): Float64Array[] {
  const hit = cache.get(ref);
  if (hit) return hit;
  const { width: w, p } = codes;
  const out = ref.cols.map((col) => {
    const ms = col.map(Math.exp);
    let mean = 0;
    for (const v of ms) mean += v;
    mean /= codes.n;
    const g = new Float64Array(w * w);
    const rhs = new Float64Array(w);
    for (let i = 0; i < codes.n; i++) {
      const r = (ms[i] as number) - mean;
      for (let a = 0; a < p; a++) {
        const ca = codes.codes[i * p + a] as number;
        rhs[ca] = (rhs[ca] as number) + r;
        for (let b = 0; b < p; b++) {
          const cb = codes.codes[i * p + b] as number;
          g[ca * w + cb] = (g[ca * w + cb] as number) + 1;
        }
      }
    }
    for (let a = 0; a < w; a++) g[a * w + a] = (g[a * w + a] as number) + TABLE_RIDGE;
    const values = additiveValues(codes, solveSpd(g, rhs, w));
    let m = 0;
    for (let i = 0; i < codes.n; i++) {
      values[i] = (values[i] as number) + mean;
      m += values[i] as number;
    }
    m /= codes.n;
    return values.map((v) => v / m);
  });
  cache.set(ref, out);
  return out;
}
