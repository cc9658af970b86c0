export * from './types.ts';
export * from './metrics.ts';
export { LatencyPredictor, unitCost, type PredictOptions } from './predictor.ts';
export { trainPredictor, buildLutPredictor, type TrainOptions } from './train.ts';
export { savePredictor, loadPredictor } from './model-dir.ts';
export { choiceIndex, choiceIndices, type ChoiceIndex } from './choices.ts';
export { buildSpaceTables, networkFeatures, lutSum, type SpaceTables, type UnitCost, type UnitSource } from './tables.ts';
export { trainKernelModels, predictKernel, type KernelModels } from './kernels.ts';
export { initTf, tf } from './tf.ts';
export { inHoldout, hash32 } from './split.ts';
export { networkSamples } from './dataset.ts';
// measurement conditions (reference, normalisation, quality) are conditions/'s; re-exported for callers of the predictor
export { anchorFit, referenceCalibration, normalisedMs, calibrationFactor, calibrationSlope, type AnchorFit } from '../conditions/index.ts';
export { evaluatePredictors, type EvalReport, type EvalSplit, type EvalOptions } from './evaluate.ts';
export { evalReportHtml, renderSvg } from './report.ts';
export { accuracyScatterSpec, errorHistogramSpec } from './report.ts';
export * from './fewshot/index.ts';
export * from './differentiable/index.ts';
