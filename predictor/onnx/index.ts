export { decomposeOnnx, SUPPORTED_ONNX_OPS } from './decompose.ts';
export { predictOnnx, type OnnxPredictOptions } from './predict.ts';
export { OnnxFormatError, UnsupportedOnnxError } from './errors.ts';
export type * from './types.ts';
export { predictOnnxModel, runtimeRuleSet, UnmappedKernelsError, type OnnxModelPrediction, type OnnxModelPredictOptions, type UnmappedKernel } from './model-predict.ts';
