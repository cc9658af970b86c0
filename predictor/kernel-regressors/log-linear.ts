import { Matrix, solve } from 'ml-matrix';
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

/** Ridge least squares with an unpenalised bias (features centred first). */
export function fitLogLinear(x: readonly (readonly number[])[], y: readonly number[]): LogLinear {
  const n = x.length;
  const d = x[0]?.length ?? 0;
  if (n === 0) throw new RangeError(`'x' must hold at least one row`);
  const mean = Array.from({ length: d }, (_, j) => x.reduce((a, r) => a + (r[j] as number), 0) / n);
  const yMean = y.reduce((a, b) => a + b, 0) / n;
  const xc = new Matrix(x.map((r) => r.map((v, j) => v - (mean[j] as number))));
  const xtx = xc.transpose().mmul(xc);
  for (let j = 0; j < d; j++) xtx.set(j, j, xtx.get(j, j) + LAMBDA * n);
  const xty = xc.transpose().mmul(Matrix.columnVector(y.map((v) => v - yMean)));
  const w = solve(xtx, xty).getColumn(0);
  const bias = yMean - w.reduce((a, wj, j) => a + wj * (mean[j] as number), 0);
  return new LogLinear(w, bias);
}

export const logLinearKind: KernelRegressorKind = {
  name: 'log-linear',
  description: 'ridge regression of log ms on log1p features (extrapolates as a power law)',
  fit: (x, y) => fitLogLinear(x, y),
  load(json) {
    const j = json as Partial<LogLinearJson> | null;
    if (!j || j.kind !== 'log-linear' || !Array.isArray(j.weights) || typeof j.bias !== 'number') {
      throw new KernelRegressorFormatError(`a log-linear regressor must be { kind: 'log-linear', weights: number[], bias: number }`);
    }
    return new LogLinear(j.weights, j.bias);
  },
};
