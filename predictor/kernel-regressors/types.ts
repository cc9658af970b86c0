/**
 * A regressor of one kernel type on one device: log-space features in, log milliseconds out.
 * Kinds register themselves by name (registry.ts); a model file names its kind, and loading it
 * finds the kind again, so a new kind touches only its own file and its registration line.
 */
export interface KernelRegressor {
  readonly kind: string;
  /** log ms for each row of log1p features */
  predict(x: readonly (readonly number[])[]): number[];
  /** a JSON-safe form `KernelRegressorKind.load` reads back */
  toJSON(): unknown;
}

export interface KernelFitOptions {
  /** a 32-bit seed for kinds that sample (bagging, feature subsets) */
  seed?: number;
}

export interface KernelRegressorKind {
  readonly name: string;
  /** what it is, for --help and docs */
  readonly description: string;
  fit(x: readonly (readonly number[])[], y: readonly number[], options?: KernelFitOptions): KernelRegressor;
  load(json: unknown): KernelRegressor;
}
