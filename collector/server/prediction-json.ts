import type { OnnxModelPrediction } from '../../predictor/onnx/index.ts';
import type { Prediction } from '../../predictor/index.ts';

/**
 * A prediction's fields as the API names them (snake_case, units in the name), shared by
 * `POST /api/predict` and `hwlat predict --arch --json` so the two never drift apart. The
 * breakdown is left to the caller: the route writes it with its own fast serializer.
 *
 * @example
 * predictionJson(predictor.predict(arch)); // { arch, latency_ms, low_ms, high_ms, kind, lut_sum_ms, calibration_ms }
 */
export function predictionJson(p: Prediction) {
  return {
    arch: p.arch,
    latency_ms: p.ms,
    low_ms: p.low,
    // the band's upper end is unbounded when validation errors reached −100% (JSON has no Infinity)
    high_ms: Number.isFinite(p.high) && p.high >= p.ms ? p.high : null,
    kind: p.kind,
    lut_sum_ms: p.lutSumMs,
    calibration_ms: p.calibrationMs,
  };
}

/**
 * An ONNX model's kernel-model prediction as the API names it, shared by `POST /api/predict/onnx`
 * and `hwlat predict --onnx --json`.
 */
export function kernelModelPredictionJson(p: OnnxModelPrediction) {
  return {
    latency_ms: p.ms,
    kernel_sum_ms: p.kernelSumMs,
    overhead_ms: p.overheadMs,
    kernels: p.kernels.map((k) => ({ op: k.op, type: k.type, nodes: k.nodes, ms: k.ms, source: k.source, ...(k.model ? { regressor: k.model } : {}) })),
    unmapped: p.unmapped.map((u) => ({ op: u.op, nodes: u.nodes, macs_share: u.macsShare, ms: u.ms })),
    // how the device's kernel-campaign samples were carried into networks ('none', 'any', 'type') and by what factors
    samples_in_context: { mode: p.context.mode, factors: p.context.factors },
  };
}
