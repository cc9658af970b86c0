export type { DenseParams, ExpectedOptions, LatencyModelOptions, LatencyParams } from './types.ts';
export { latencyParams, MAX_ENUMERATED } from './params.ts';
export { LatencyModel } from './model.ts';
export { loadLatencyModel } from './load.ts';
export { checkProbs, flattenProbs, ROW_SUM_TOLERANCE } from './validate.ts';
export {
  fbnetLoss, getLatencyLoss, LATENCY_LOSSES, proxylessAddLinear, proxylessMulLog, towardTarget,
  type LatencyLoss, type LatencyLossName, type LatencyLossOptions,
} from './losses.ts';
export { latencyOnnx, LATENCY_ONNX_OPS, LATENCY_ONNX_OPSET } from './onnx.ts';
export { latencyJson, LATENCY_JSON_FORMULA } from './json.ts';
