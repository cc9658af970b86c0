import type { AccuracyMetrics } from './metrics.ts';
import type { KernelModels } from './kernels.ts';
import type { UnitSource } from './tables.ts';
import type { RbfResidual } from './rbf-residual.ts';

export type PredictorKind = 'lut-sum' | 'composite' | 'encoding-mlp';
export const PREDICTOR_KINDS: readonly PredictorKind[] = Object.freeze(['lut-sum', 'composite', 'encoding-mlp']);

/** One network measurement, latency normalised to the predictor's reference calibration. */
export interface NetworkSample {
  arch: string;
  ms: number;
  passId: string;
  /** the calibration figure of the measurement's own group (before normalisation); null: none */
  calibrationMs?: number | null;
  /**
   * the anchor figure of the measurement's own group when `ms` was normalised by it (dataset.ts
   * networkSamples); absent: `ms` is calibration-normalised (exponent 1)
   */
  anchorMs?: number | null;
}

/** Where one part of a prediction came from. */
export interface BreakdownRow {
  /** 'fixed' or the position name */
  position: string;
  choice: string | null;
  key: string;
  ms: number;
  source: UnitSource;
}

export interface Prediction {
  space: string;
  arch: string;
  kind: PredictorKind;
  /** predicted latency, ms, at the requested (or reference) calibration */
  ms: number;
  /** uncertainty band from the validation errors (p10..p90) */
  low: number;
  high: number;
  lutSumMs: number;
  calibrationMs: number | null;
  breakdown: BreakdownRow[];
}

/** A linear network-level correction: ŷ·yScale = bias + Σ kernel_d · f_d / scale_d. */
export interface LinearCorrection {
  featureNames: string[];
  scale: number[];
  yScale: number;
  kernel: number[];
  bias: number;
  /** predictions never go below this (half the fastest training network): a linear fit can cross 0 */
  floorMs: number;
  /**
   * How each feature's share slows with the machine beyond the network-wide elasticity: weights of
   * feature · log(calibration / reference), in the same scaled space as `kernel`. Under contention
   * memory-bound kernels (pools, Adds, zeros) slow more than convolutions, so one β for all networks
   * under-predicts light networks in slow groups. Absent: not fitted or not kept on validation.
   * `min`/`max`: the training range of log(calibration / reference), which predictions are clamped to.
   */
  condition?: { kernel: number[]; min: number; max: number } | null;
}

/**
 * The composite's nonlinear part: ŷ = linear(features) · (1 + mlp(one-hot encoding)). Interactions
 * the additive features cannot express (e.g. ONNX Runtime sharing one ReLU between two convs
 * reading the same NAS-Bench-201 node) live here. Differentiable in the encoding.
 */
export interface ResidualSpec {
  inputs: number;
  hidden: number[];
}

export interface EncodingSpec {
  /** one-hot width: Σ candidates over positions */
  inputs: number;
  hidden: number[];
  yScale: number;
}

/** What a predictor directory's predictor.json holds (with encoding.json/.bin beside it). */
export interface PredictorData {
  format: 'hwlat-predictor/1';
  deviceId: string;
  space: string;
  createdAt: string;
  /** the calibration latencies are expressed at; predictions scale to a given current one */
  calibrationMs: number | null;
  /**
   * β in ms ∝ calibration^β, learned from the training networks (see elasticity.ts); predictions
   * at a current calibration c scale by (c / calibrationMs)^β. Absent (older predictors): 1.
   */
  calibrationElasticity?: number;
  calibrationKey: string | null;
  /** LUT means (ms, normalised) of the space's units that were measured */
  lut: Record<string, number>;
  kernels: KernelModels;
  correction: LinearCorrection;
  encoding: EncodingSpec | null;
  /** present when the residual MLP improved the composite on validation */
  residual: ResidualSpec | null;
  /**
   * non-additive spaces: a ridge correction of the composite's log residual with an RBF on the
   * Hamming distance between choices (rbf-residual.ts), present when it improved the composite on
   * validation. The field keeps its stored name (kernel ridge's "kernel", not an ORT kernel) so
   * predictor.json files already written load unchanged.
   */
  kernelResidual?: RbfResidual | null;
  /** the kind `predict` uses unless told otherwise: the one that won on validation */
  chosen: PredictorKind;
  /** relative error band (p10, p90) per kind on validation networks */
  bands: Record<PredictorKind, [number, number]>;
  metrics: Partial<Record<PredictorKind, AccuracyMetrics>>;
  training: { networks: number; validation: number; passes: string[]; lutEntries: number; regressorUnits: number; seconds: number };
}
