import { z } from 'zod';

/** Robust statistics of one measured model, all in milliseconds (see agent/harness/stats). */
export const LatencyStatsSchema = z.object({
  median: z.number().nonnegative(),
  mean: z.number().nonnegative(),
  p10: z.number().nonnegative(),
  p90: z.number().nonnegative(),
  stddev: z.number().nonnegative(),
  min: z.number().nonnegative(),
  /** coefficient of variation (stddev / mean) after outlier removal */
  cv: z.number().nonnegative(),
  /** samples kept after the MAD-based outlier drop */
  repeats: z.number().int().min(1),
  /** samples dropped as outliers */
  outliers: z.number().int().min(0),
});
export type LatencyStats = z.infer<typeof LatencyStatsSchema>;

/**
 * How far a measurement can be trusted, decided while it was measured (conditions/contention.ts):
 * - `clean`: no round of its group looked disturbed, or only a stray one (discarded all the same);
 * - `remeasured`: some rounds looked disturbed (the calibration or anchor network slower than
 *   their running baseline, the process starved of CPU, timer gaps) and were discarded and run
 *   again after a back-off; the figures come from quiet rounds only;
 * - `disturbed`: the group could not get enough quiet rounds within its budget. The figures are
 *   stored with their evidence so a user can see them, but no LUT or predictor uses them, and a
 *   fleet job is queued again for later.
 */
export const QualityVerdictSchema = z.enum(['clean', 'remeasured', 'disturbed']);
export type QualityVerdict = z.infer<typeof QualityVerdictSchema>;

export const MeasurementQualitySchema = z.object({
  verdict: QualityVerdictSchema,
  /** quiet rounds the figures come from */
  rounds: z.number().int().min(0),
  /** rounds judged disturbed (discarded, and re-run while the budget lasted) */
  discardedRounds: z.number().int().min(0),
  /** what gave the disturbance away, short phrases ("calibration 1.6× its baseline in 7 rounds") */
  evidence: z.array(z.string().min(1).max(200)).max(16),
});
export type MeasurementQuality = z.infer<typeof MeasurementQualitySchema>;

export const MeasurementLevelSchema = z.enum(['op', 'network']);
export type MeasurementLevel = z.infer<typeof MeasurementLevelSchema>;

/**
 * One measurement: never a single number. `key` is the canonical layer key (op level) or the
 * architecture string (network level); `stats` is the warm latency as the field measures it
 * (consecutive runs after the first of a burst) and `cold`, when present, the first run after
 * another model (cold caches); `calibrationMs` is the median latency of the pass's
 * calibration workload, so measurements from different passes can be normalised before use;
 * `anchorMs` that of the space's anchor network, measured in the same rounds; `quality` how far
 * it can be trusted (absent: measured before quality verdicts existed, treated as clean).
 */
export const MeasurementSchema = z.object({
  id: z.string().min(8).describe('client-generated result id; the store ignores duplicates'),
  deviceId: z.string().min(1),
  passId: z.string().min(1),
  level: MeasurementLevelSchema,
  space: z.string().min(1).nullable(),
  key: z.string().min(1),
  spec: z.unknown().optional().describe('op spec (op level) or null'),
  batch: z.number().int().min(1),
  warmup: z.number().int().min(0),
  stats: LatencyStatsSchema,
  wallMs: z.number().nonnegative().describe('wall time spent measuring this model'),
  calibrationMs: z.number().positive().nullable(),
  /**
   * median latency of the space's anchor network (agent/anchors.ts) in the same rounds (network
   * measurements of a space with an anchor); absent from older agents and for op-level ones
   */
  anchorMs: z.number().positive().nullable().optional(),
  /** the first run of each round's burst: what a model costs right after another one */
  cold: LatencyStatsSchema.nullable().optional(),
  quality: MeasurementQualitySchema.nullable().optional(),
  createdAt: z.string().describe('ISO timestamp'),
  /** the collector job this measurement completes (fleet campaigns); absent for local profiles */
  jobId: z.string().min(1).nullable().optional(),
});
export type Measurement = z.infer<typeof MeasurementSchema>;

/** A pass: one process measuring a batch of models in interleaved rounds, with its calibration. */
export const PassSchema = z.object({
  id: z.string().min(1),
  deviceId: z.string().min(1),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  calibrationKey: z.string().min(1),
  /** median of the calibration workload over the whole pass */
  calibrationMs: z.number().positive().nullable(),
  /** per-round calibration medians, in order: drift within the pass is visible here */
  calibrationTrace: z.array(z.number().positive()),
});
export type Pass = z.infer<typeof PassSchema>;
