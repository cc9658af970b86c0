import { Matrix, solve } from 'ml-matrix';
import { KERNEL_FEATURE_NAMES, KERNEL_SIZE_FEATURES } from '../../ops-library/kernels/features.ts';
import { KernelRegressorFormatError } from './errors.ts';
import type { KernelRegressor, KernelRegressorKind } from './types.ts';

/**
 * Ridge strength, in log-feature units: a column whose log spread in a type's training kernels is
 * below about √λ (sizes within ±25%) cannot tell its slope from noise, and the prior slope wins.
 */
const LAMBDA = 0.05;

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

export interface LogLinearFit {
  /** the columns of x the power law is fitted on (default: every column); the others get weight 0 */
  columns?: readonly number[];
  /** the weights the ridge shrinks toward, by column (default 0): the slope where the data has none */
  prior?: Readonly<Record<number, number>>;
}

/**
 * How a kernel regressor fits its power law on the kernel feature vector: on the size features,
 * shrunk toward time ∝ MACs (slope 1), so a type timed at one size only scales with work instead
 * of staying constant (12 identical ViT Splits otherwise priced ShuffleNet's 5× smaller ones the same).
 */
export function kernelPowerLaw(width: number): LogLinearFit {
  if (width !== KERNEL_FEATURE_NAMES.length) return {};
  return { columns: KERNEL_SIZE_FEATURES.map((f) => KERNEL_FEATURE_NAMES.indexOf(f)), prior: { [KERNEL_FEATURE_NAMES.indexOf('macs')]: 1 } };
}

/** Ridge least squares with an unpenalised bias (features centred first), toward `prior`. */
export function fitLogLinear(x0: readonly (readonly number[])[], y: readonly number[], fit: LogLinearFit = {}): LogLinear {
  const n = x0.length;
  if (n === 0) throw new RangeError(`'x' must hold at least one row`);
  const width = x0[0]?.length ?? 0;
  const cols = fit.columns ?? Array.from({ length: width }, (_, j) => j);
  const prior = cols.map((c) => fit.prior?.[c] ?? 0);
  const x = x0.map((r) => cols.map((c) => r[c] as number));
  const d = cols.length;
  const mean = Array.from({ length: d }, (_, j) => x.reduce((a, r) => a + (r[j] as number), 0) / n);
  const yMean = y.reduce((a, b) => a + b, 0) / n;
  const xc = new Matrix(x.map((r) => r.map((v, j) => v - (mean[j] as number))));
  const xtx = xc.transpose().mmul(xc);
  for (let j = 0; j < d; j++) xtx.set(j, j, xtx.get(j, j) + LAMBDA * n);
  const xty = xc.transpose().mmul(Matrix.columnVector(y.map((v) => v - yMean)));
  for (let j = 0; j < d; j++) xty.set(j, 0, xty.get(j, 0) + LAMBDA * n * (prior[j] as number));
  const w = solve(xtx, xty).getColumn(0);
  const bias = yMean - w.reduce((a, wj, j) => a + wj * (mean[j] as number), 0);
  const weights = Array.from({ length: width }, () => 0);
  cols.forEach((c, j) => (weights[c] = w[j] as number));
  return new LogLinear(weights, bias);
}

export const logLinearKind: KernelRegressorKind = {
  name: 'log-linear',
  description: 'ridge regression of log ms on log1p of the size features (macs, elements in, weights, out): a power law in work and bytes',
  fit: (x, y) => fitLogLinear(x, y, kernelPowerLaw(x[0]?.length ?? 0)),
  load(json) {
    const j = json as Partial<LogLinearJson> | null;
    if (!j || j.kind !== 'log-linear' || !Array.isArray(j.weights) || typeof j.bias !== 'number') {
      throw new KernelRegressorFormatError(`a log-linear regressor must be { kind: 'log-linear', weights: number[], bias: number }`);
    }
    return new LogLinear(j.weights, j.bias);
  },
};
