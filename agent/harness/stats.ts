import { mean, median, medianAbsoluteDeviation, min, quantile, standardDeviation } from 'simple-statistics';
import type { LatencyStats } from '../../protocol/index.ts';

/** 1.4826·MAD estimates the standard deviation of normally distributed data. */
const MAD_TO_SIGMA = 1.4826;
/** Iglewicz & Hoaglin's cut-off for the modified z-score. */
const OUTLIER_Z = 3.5;

/**
 * Splits samples into kept and dropped by the modified z-score |x − median| / (1.4826·MAD).
 * MAD rather than stddev, because one preempted run (100× slower) would inflate a stddev enough
 * to hide itself. With MAD = 0 (over half the samples equal) nothing can be called an outlier.
 */
export function splitOutliers(samples: readonly number[]): { kept: number[]; dropped: number[] } {
  const med = median([...samples]);
  const scale = MAD_TO_SIGMA * medianAbsoluteDeviation([...samples]);
  if (scale === 0) return { kept: [...samples], dropped: [] };
  const kept: number[] = [];
  const dropped: number[] = [];
  for (const x of samples) (Math.abs(x - med) / scale > OUTLIER_Z ? dropped : kept).push(x);
  return { kept, dropped };
}

/**
 * Robust latency statistics in milliseconds. Outliers are dropped first (see splitOutliers);
 * every figure, `repeats` included, describes the kept samples. Quantiles interpolate linearly
 * (numpy's default); stddev is the population standard deviation; cv = stddev / mean.
 *
 * @example
 * robustStats([1, 2, 3, 4, 100]);
 * // { median: 2.5, mean: 2.5, p10: 1.3, p90: 3.7, stddev: 1.118…, min: 1, cv: 0.447…, repeats: 4, outliers: 1 }
 */
export function robustStats(samplesMs: readonly number[]): LatencyStats {
  if (!Array.isArray(samplesMs)) {
    throw new TypeError(`'samplesMs' must be an array of numbers, got ${typeof samplesMs}`);
  }
  if (samplesMs.length === 0) {
    throw new RangeError(`'samplesMs' must hold at least 1 sample, got 0`);
  }
  const bad = samplesMs.findIndex((x) => typeof x !== 'number' || !Number.isFinite(x) || x < 0);
  if (bad >= 0) {
    throw new RangeError(`'samplesMs' must hold finite times >= 0, got ${String(samplesMs[bad])} at index ${bad}`);
  }
  const { kept, dropped } = splitOutliers(samplesMs);
  const m = mean(kept);
  const sd = standardDeviation(kept);
  return {
    median: median(kept),
    mean: m,
    p10: quantile(kept, 0.1),
    p90: quantile(kept, 0.9),
    stddev: sd,
    min: min(kept),
    cv: m > 0 ? sd / m : 0,
    repeats: kept.length,
    outliers: dropped.length,
  };
}
