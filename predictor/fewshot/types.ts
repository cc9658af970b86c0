import type { SearchSpace } from '../../ops-library/index.ts';

/**
 * Measured latencies of the reference devices: `ms[d][i]` is device `devices[d]` on architecture i
 * (the order of the `archs` it goes with), NaN where that device did not measure it.
 */
export interface ReferenceLatencies {
  devices: readonly string[];
  ms: ReadonlyArray<ArrayLike<number>>;
}

/** One few-shot measurement of the new device: architecture index (into `archs`) and its ms. */
export interface TargetSample {
  index: number;
  ms: number;
}

/** What fewShotPredict needs. */
export interface FewShotInput {
  space: SearchSpace;
  /** every architecture to predict (arch strings of the space) */
  archs: readonly string[];
  reference: ReferenceLatencies;
  /** at least 2 measurements of the new device */
  target: readonly TargetSample[];
}

/** How each reference device entered the prediction (its share of the weight in log space). */
export interface ReferenceWeight {
  device: string;
  /** summed coefficient of the device's centred log-latency in the prediction */
  weight: number;
}

/** Predictions for every architecture of the input, in its order, with how they were made. */
export interface FewShotResult {
  /** ms, one per input architecture */
  ms: Float64Array;
  /** lower end of each prediction's `interval` (e.g. 90%) prediction interval, ms */
  lo: Float64Array;
  /** upper end of each prediction's interval, ms */
  hi: Float64Array;
  /** the intervals' nominal coverage (0.9) */
  interval: number;
  /** the log-space spread behind the intervals: RMS of the prediction's leave-one-out residuals on the K samples */
  logSigma: number;
  /** reference devices that were usable (positive latencies on at least 2 architectures) */
  devicesUsed: string[];
  /** reference weights, largest |weight| first */
  weights: ReferenceWeight[];
  /** share of the log-space weight on the physical (FLOPs, memory, kernels) models rather than reference devices */
  physicalWeight: number;
  /** share of the log-space weight on the device basis: reference per-choice ms tables (with the physical ones) mixed in linear space */
  basisWeight: number;
  /** share of the log-space prediction from the device-embedding model (population prior) */
  embeddingWeight: number;
  /** leave-one-out RMS error (log space) of the best candidate model on the K samples */
  looRmse: number;
  /** reference values filled in by the per-device additive model (archs a device did not measure) */
  imputed: number;
}

/** Options of planFewShot. */
export interface PlanOptions {
  space: SearchSpace;
  archs: readonly string[];
  reference: ReferenceLatencies;
  /** how many architectures to propose (>= 1) */
  k: number;
  /** seed of the candidate pool (default 0) */
  seed?: number;
  /** at most this many candidates are scored (default 3000) */
  pool?: number;
  /** 'kmeans' (default): representative picks; 'leverage': greedy D-optimal (extreme) picks */
  method?: 'kmeans' | 'leverage';
}
