import { z } from 'zod';

/**
 * The largest latency (ms) a measurement may report: 1e6 ms is 16.7 minutes for one inference
 * run, far beyond any model a NAS agent measures (the slowest network of the spaces here runs in
 * well under a second on a phone), yet small enough that one absurd figure (1e300 from a broken or
 * hostile agent) is refused instead of stored, where it would poison a device's LUT and predictors.
 * Calibration and anchor latencies obey the same ceiling.
 */
export const MAX_LATENCY_MS = 1e6;
/**
 * The largest wall time (ms) measuring one model may take: a day. A job's settings allow up to
 * 600 s of timed runs (MeasureSettings.minTimeMs) plus warm-up and the calibration rounds around
 * it; far more than that is a broken clock, not a measurement.
 */
export const MAX_WALL_MS = 86_400_000;
/** More samples than this in one measurement is not something a harness did (1e6 runs of even 1 µs). */
export const MAX_REPEATS = 10_000_000;

/** A latency in ms: finite, >= 0, at most MAX_LATENCY_MS. */
export const LatencyMsSchema = z.number().nonnegative().max(MAX_LATENCY_MS);
/** A latency that must be > 0 (calibration, anchor): finite, at most MAX_LATENCY_MS. */
export const PositiveLatencyMsSchema = z.number().positive().max(MAX_LATENCY_MS);

/**
 * Robust statistics of one measured model, all in milliseconds (see agent/harness/stats). Each
 * figure is bounded (MAX_LATENCY_MS) and the set must be consistent, as statistics of one sample
 * set are: min <= p10 <= median <= p90 (min and the quantiles are exact order statistics or means
 * of two neighbours, so the order holds without tolerance). The mean is not ordered against them:
 * the mean of equal samples can round one ulp below them.
 */
export const LatencyStatsSchema = z
  .object({
    median: LatencyMsSchema,
    mean: LatencyMsSchema,
    p10: LatencyMsSchema,
    p90: LatencyMsSchema,
    stddev: LatencyMsSchema,
    min: LatencyMsSchema,
    /** coefficient of variation (stddev / mean) after outlier removal */
    cv: z.number().nonnegative().max(1e6),
    /** samples kept after the MAD-based outlier drop */
    repeats: z.number().int().min(1).max(MAX_REPEATS),
    /** samples dropped as outliers */
    outliers: z.number().int().min(0).max(MAX_REPEATS),
  })
  .superRefine((s, ctx) => {
    const order = (field: 'p10' | 'median' | 'p90', low: 'min' | 'p10' | 'median') => {
      if (s[low] > s[field]) ctx.addIssue({ code: 'custom', path: [field], message: `${field} (${s[field]} ms) must be >= ${low} (${s[low]} ms)` });
    };
    order('p10', 'min');
    order('median', 'p10');
    order('p90', 'median');
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
  wallMs: z.number().nonnegative().max(MAX_WALL_MS).describe('wall time spent measuring this model'),
  calibrationMs: PositiveLatencyMsSchema.nullable(),
  /**
   * median latency of the space's anchor network (agent/anchors.ts) in the same rounds (network
   * measurements of a space with an anchor); absent from older agents and for op-level ones
   */
  anchorMs: PositiveLatencyMsSchema.nullable().optional(),
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
  calibrationMs: PositiveLatencyMsSchema.nullable(),
  /** per-round calibration medians, in order: drift within the pass is visible here */
  calibrationTrace: z.array(PositiveLatencyMsSchema),
});
export type Pass = z.infer<typeof PassSchema>;
