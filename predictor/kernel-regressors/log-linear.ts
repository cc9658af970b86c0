import { Matrix, solve } from 'ml-matrix';
import { KERNEL_FEATURE_NAMES, KERNEL_SIZE_FEATURES } from '../../ops-library/kernels/features.ts';
import { KernelRegressorFormatError } from './errors.ts';
import type { KernelRegressor, KernelRegressorKind } from './types.ts';

/** ridge strength on standardised features: enough to keep a constant or collinear column harmless */
const LAMBDA = 1e-3;

interface LogLinearJson {
  kind: 'log-linear';
  weights: number[];
  bias: number;
}

/** log ms = bias + w · log1p(features): a power law in work and bytes. */
export class LogLinear implements KernelRegressor {
  readonly kind = 'log-linear';
  constructor(readonly weights: readonly number[], readonly bias: number) {}

  predict(x: readonly (readonly number[])[]): number[] {
    return x.map((row) => row.reduce((z, v, i) => z + v * (this.weights[i] ?? 0), this.bias));
  }

  toJSON(): LogLinearJson {
    return { kind: 'log-linear', weights: [...this.weights], bias: this.bias };
  }
}

/** the columns of the kernel feature vector a power law is fitted on: the size features */
export const SIZE_COLUMNS: readonly number[] = KERNEL_SIZE_FEATURES.map((f) => KERNEL_FEATURE_NAMES.indexOf(f));

/**
 * Ridge least squares with an unpenalised bias (features centred first), on `columns` of x only
 * (default: every column); the other columns get weight 0.
 */
export function fitLogLinear(x0: readonly (readonly number[])[], y: readonly number[], columns?: readonly number[]): LogLinear {
  const n = x0.length;
  if (n === 0) throw new RangeError(`'x' must hold at least one row`);
  const width = x0[0]?.length ?? 0;
  const cols = columns ?? Array.from({ length: width }, (_, j) => j);
  const x = x0.map((r) => cols.map((c) => r[c] as number));
  const d = cols.length;
  const mean = Array.from({ length: d }, (_, j) => x.reduce((a, r) => a + (r[j] as number), 0) / n);
  const yMean = y.reduce((a, b) => a + b, 0) / n;
  const xc = new Matrix(x.map((r) => r.map((v, j) => v - (mean[j] as number))));
  const xtx = xc.transpose().mmul(xc);
  for (let j = 0; j < d; j++) xtx.set(j, j, xtx.get(j, j) + LAMBDA * n);
  const xty = xc.transpose().mmul(Matrix.columnVector(y.map((v) => v - yMean)));
  const w = solve(xtx, xty).getColumn(0);
  const bias = yMean - w.reduce((a, wj, j) => a + wj * (mean[j] as number), 0);
  const weights = Array.from({ length: width }, () => 0);
  cols.forEach((c, j) => (weights[c] = w[j] as number));
  return new LogLinear(weights, bias);
}

export const logLinearKind: KernelRegressorKind = {
  name: 'log-linear',
  description: 'ridge regression of log ms on log1p of the size features (macs, elements in, weights, out): a power law in work and bytes',
  fit: (x, y) => fitLogLinear(x, y, x[0]?.length === KERNEL_FEATURE_NAMES.length ? SIZE_COLUMNS : undefined),
  load(json) {
    const j = json as Partial<LogLinearJson> | null;
    if (!j || j.kind !== 'log-linear' || !Array.isArray(j.weights) || typeof j.bias !== 'number') {
      throw new KernelRegressorFormatError(`a log-linear regressor must be { kind: 'log-linear', weights: number[], bias: number }`);
    }
    return new LogLinear(j.weights, j.bias);
  },
};
