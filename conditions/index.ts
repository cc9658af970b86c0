export { CALIBRATION_KEY, CALIBRATION_NETWORK, ANCHOR_NETWORKS, anchorArch, anchorModel, calibrationModel } from './networks.ts';
export { referenceCalibration, normalisedMs } from './reference.ts';
export { calibrationFactor, calibrationSlope } from './elasticity.ts';
export { anchorFit, groupKey, type AnchorFit } from './anchor-fit.ts';
export {
  insufficientCleanData, isUsable, MIN_CLEAN_NETWORKS, MIN_CLEAN_SHARE, qualityOf, splitUsable, summariseQuality, verdictOf,
  type DataVerdict, type QualitySummary,
} from './quality.ts';
export { ContentionDetector, threadWarning, type ContentionOptions, type RoundJudgement, type RoundSignals } from './contention.ts';
