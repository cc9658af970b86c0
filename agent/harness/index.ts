// Runtime-agnostic: no Node or onnxruntime imports, so the browser agent can share it.
export type { CalibrationResult, InterleavedResult, MeasureOptions, ModelResult, RoundMonitor, RoundRecord } from './types.ts';
export { measureInterleaved, measureOne, MIN_ROUNDS, roundsForRuns } from './harness.ts';
export { robustStats, splitOutliers } from './stats.ts';
export { runsPerSampleFor, timerResolutionMs, type RunsPerSampleOptions } from './timer.ts';
