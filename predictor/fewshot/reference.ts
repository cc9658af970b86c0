import type { ArchCodes } from './encode.ts';
import { additiveValues } from './encode.ts';
import { solveSpd } from './linalg.ts';
import type { ReferenceLatencies } from './types.ts';

/** Reference devices' log-latencies on every architecture, each column centred over architectures. */
export interface ReferenceMatrix {
  devices: string[];
  /** `cols[d][i]`: centred log-ms of device d on architecture i */
  cols: Float64Array[];
  /** how many values the per-device additive model filled in */
  imputed: number;
}

// ridge of the per-device additive (one-hot, log-space) model that fills in unmeasured archs:
// small, since a device with a table has hundreds of samples per column
const IMPUTE_RIDGE = 1;

/**
 * Fits `log ms ≈ b + Σ_positions cost[position, choice]` on the measured architectures of one
 * device: a per-choice cost table in log space, used where the device lacks an architecture.
 */
export function fitAdditiveLog(codes: ArchCodes, logMs: ArrayLike<number>, measured: readonly number[]): { intercept: number; costs: Float64Array } {
  const w = codes.width;
  let mean = 0;
  for (const i of measured) mean += logMs[i] as number;
  mean /= measured.length;
  const g = new Float64Array(w * w);
  const rhs = new Float64Array(w);
  for (const i of measured) {
    const r = (logMs[i] as number) - mean;
    for (let a = 0; a < codes.p; a++) {
      const ca = codes.codes[i * codes.p + a] as number;
      rhs[ca] = (rhs[ca] as number) + r;
      for (let b = 0; b < codes.p; b++) {
        const cb = codes.codes[i * codes.p + b] as number;
        g[ca * w + cb] = (g[ca * w + cb] as number) + 1;
      }
    }
  }
  for (let a = 0; a < w; a++) g[a * w + a] = (g[a * w + a] as number) + IMPUTE_RIDGE;
  return { intercept: mean, costs: solveSpd(g, rhs, w) };
}

/**
 * Log reference matrix: devices with fewer than 2 positive measurements are left out; a device's
 * missing architectures are filled in by its own additive log model.
 */
export function referenceMatrix(codes: ArchCodes, reference: ReferenceLatencies): ReferenceMatrix {
  const devices: string[] = [];
  const cols: Float64Array[] = [];
  let imputed = 0;
  reference.devices.forEach((device, d) => {
    const ms = reference.ms[d] as ArrayLike<number>;
    if (ms.length !== codes.n) throw new RangeError(`reference device '${device}' has ${ms.length} values for ${codes.n} architectures`);
    const log = new Float64Array(codes.n);
    const measured: number[] = [];
    for (let i = 0; i < codes.n; i++) {
      const v = ms[i] as number;
      if (Number.isFinite(v) && v > 0) {
        log[i] = Math.log(v);
        measured.push(i);
      } else log[i] = Number.NaN;
    }
    if (measured.length < 2) return;
    if (measured.length < codes.n) {
      const model = fitAdditiveLog(codes, log, measured);
      const fill = additiveValues(codes, model.costs);
      for (let i = 0; i < codes.n; i++) {
        if (Number.isNaN(log[i] as number)) {
          log[i] = model.intercept + (fill[i] as number);
          imputed++;
        }
      }
    }
    let mean = 0;
    for (let i = 0; i < codes.n; i++) mean += log[i] as number;
    mean /= codes.n;
    let varSum = 0;
    for (let i = 0; i < codes.n; i++) {
      log[i] = (log[i] as number) - mean;
      varSum += (log[i] as number) ** 2;
    }
    // a device that does not distinguish architectures carries no information
    if (varSum / codes.n < 1e-12) return;
    devices.push(device);
    cols.push(log);
  });
  return { devices, cols, imputed };
}
