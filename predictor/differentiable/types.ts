import type { PredictorKind } from '../types.ts';

/** One dense layer of an MLP as plain numbers: y = x·kernel + bias (then ReLU when `relu`). */
export interface DenseParams {
  inputs: number;
  units: number;
  /** row-major [inputs, units] */
  kernel: Float32Array;
  bias: Float32Array;
  relu: boolean;
}

/**
 * A latency predictor in the form a search loop differentiates: every figure a forward pass needs,
 * as plain arrays over the `[layers × candidates]` probability grid (row-major, padding columns of
 * positions with fewer candidates are zero). The tfjs model, the ONNX graph and the JSON export
 * are three renderings of this one object, so they cannot disagree.
 *
 * `form: 'additive'` (FBNet, ProxylessNAS: a network is the fixed units plus each layer's choice):
 *   lin = base + Σ_{l,i} p[l,i]·score[l,i]
 *   composite with residual: y = lin · (0.1 + relu(0.9 + mlp(p)))   (= lin·max(0.1, 1 + r))
 *   encoding-mlp:            y = yScale · mlp(p)
 *   then, when floorMs is set: y = floorMs + relu(y − floorMs)     (= max(floorMs, y))
 * `form: 'enumerated'` (NAS-Bench-201, whose cell is not a sum over edges but small enough to list):
 *   y = Σ_a (Π_l p[l, arch_a[l]]) · ms_a   — the exact expectation over independent choices.
 */
export interface LatencyParams {
  format: 'hwlat-latency-model/1';
  space: string;
  deviceId: string;
  kind: PredictorKind;
  /** the calibration latency the figures are expressed at (null: none measured) */
  calibrationMs: number | null;
  layers: number;
  candidates: number;
  positions: string[];
  /** [layer][candidate] → candidate name, null for a padding column */
  candidateNames: Array<Array<string | null>>;
  form: 'additive' | 'enumerated';
  /** additive: the architecture-independent part of the linear term, ms */
  base: number;
  /** additive: [layers·candidates] per-candidate contribution to the linear term, ms */
  scores: Float32Array;
  /** the plain LUT sum's figures (fixed ms, per-candidate ms), for reporting and JSON readers */
  lutFixedMs: number;
  lutMs: Float32Array;
  /** additive: the MLP on the flattened probabilities (first layer already laid out on the grid) */
  mlp: DenseParams[] | null;
  /** how the MLP enters: a multiplicative residual on the linear term, or the whole prediction */
  mlpMode: 'residual' | 'encoding' | null;
  yScale: number;
  /** predictions never go below this (null: no floor) */
  floorMs: number | null;
  /** enumerated: [architectures·layers] candidate indices */
  archs: Int32Array | null;
  /** enumerated: each architecture's prediction, ms */
  archMs: Float32Array | null;
}

export interface LatencyModelOptions {
  /** which predictor kind to make differentiable (default: the predictor's chosen one) */
  kind?: PredictorKind;
  /** the device's current calibration latency: predictions scale to its speed now */
  calibrationMs?: number;
}

export interface ExpectedOptions {
  /**
   * check the probabilities (shape, ≥ 0, rows sum to 1, padding zero; default true). It reads
   * the tensor back, so a hot loop that builds probs with softmax may turn it off.
   */
  validate?: boolean;
}
