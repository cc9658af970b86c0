export * from './types.ts';
export { fewShotPredict, fewShotPredictPrepared, FEWSHOT_HYPERPARAMETERS } from './transfer.ts';
export { referenceMatrix, fitAdditiveLog, type ReferenceMatrix } from './reference.ts';
export { planFewShot } from './plan.ts';
export { spearman, withinShare, averageRanks } from './rank.ts';
export { archFlops, flopsBaseline, nearestBaseline, ridgeBaseline } from './baselines.ts';
export { encodeArchs, type ArchCodes } from './encode.ts';
export { parseArchsCsv, parseReferenceCsv, parseTargetCsv, formatPredictionsCsv, type CsvArch } from './csv.ts';
export { physicalFeatures, choiceCostTables, PHYSICAL_FEATURES } from './physical.ts';
