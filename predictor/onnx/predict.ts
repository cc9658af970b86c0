import type { LatencyPredictor } from '../predictor.ts';
import { unitCost } from '../predictor.ts';
import { decomposeOnnx } from './decompose.ts';
import type { OnnxDecomposition, OnnxPrediction } from './types.ts';

export interface OnnxPredictOptions {
  /** the device's calibration now: scales the prediction from the predictor's reference calibration */
  calibrationMs?: number;
}

/**
 * Predicts an ONNX model's latency on the predictor's device: the sum of its kernels
 * (decomposeOnnx), each a LUT hit when the device measured that exact key, else the per-kernel
 * regressor (predictor/kernels.ts, trained on the LUT). There is no network-level correction: it
 * is learned per search space, and an arbitrary graph belongs to none, so this is the plain
 * kernel sum, which over-predicts whole networks by the per-call overhead fusion saves (docs/benchmarks.md,
 * ONNX upload: kernel sum vs measured).
 *
 * @example
 * const p = await loadPredictor('models/nasbench201');
 * predictOnnx(p, readFileSync('model.onnx')).ms;
 */
export function predictOnnx(predictor: LatencyPredictor, model: Uint8Array | OnnxDecomposition, options: OnnxPredictOptions = {}): OnnxPrediction {
  const { calibrationMs } = options;
  if (calibrationMs !== undefined && !(calibrationMs > 0)) throw new RangeError(`'calibrationMs' must be a number > 0, got ${calibrationMs}`);
  const ref = predictor.data.calibrationMs;
  const scale = calibrationMs !== undefined && ref ? calibrationMs / ref : 1;
  const d = model instanceof Uint8Array ? decomposeOnnx(model) : model;
  const kernels = d.kernels.map((k) => {
    const c = unitCost(predictor.data, k.spec, k.key);
    return { nodes: k.nodes, opTypes: k.opTypes, key: k.key, ms: c.ms * scale, source: c.source, ...(k.note ? { note: k.note } : {}) };
  });
  return {
    ms: kernels.reduce((a, k) => a + k.ms, 0),
    kernels,
    lutHits: kernels.filter((k) => k.source === 'lut').length,
    regressorKernels: kernels.filter((k) => k.source === 'regressor').length,
    free: d.free.length,
  };
}
