import { mean, quantile, sampleRankCorrelation } from 'simple-statistics';

/** Accuracy of predictions against measurements, the figures nn-Meter and HELP report. */
export interface AccuracyMetrics {
  n: number;
  /** share of predictions within ±10% of the measurement */
  within10: number;
  /** mean absolute percentage error, as a fraction */
  mape: number;
  /** root mean squared error, ms */
  rmse: number;
  spearman: number;
  kendall: number;
  /** relative error quantiles (pred − true) / true */
  errP10: number;
  errP90: number;
}

/**
 * Kendall's tau-b (ties in either ranking corrected). O(n²): evaluation sets are at most a few
 * thousand networks. simple-statistics has Spearman but no Kendall.
 */
export function kendallTau(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) throw new RangeError(`'a' and 'b' must have equal lengths, got ${a.length} and ${b.length}`);
  let concordant = 0;
  let discordant = 0;
  let tiesA = 0;
  let tiesB = 0;
  for (let i = 0; i < a.length; i++) {
    for (let j = i + 1; j < a.length; j++) {
      const da = Math.sign((a[i] as number) - (a[j] as number));
      const db = Math.sign((b[i] as number) - (b[j] as number));
      if (da === 0 && db === 0) continue;
      if (da === 0) tiesA++;
      else if (db === 0) tiesB++;
      else if (da === db) concordant++;
      else discordant++;
    }
  }
  const denom = Math.sqrt((concordant + discordant + tiesA) * (concordant + discordant + tiesB));
  return denom === 0 ? 0 : (concordant - discordant) / denom;
}

/**
 * Accuracy of `predicted` against `measured` (same order, milliseconds).
 *
 * @example
 * accuracy([10, 20, 30], [11, 19, 33]).within10 // 1
 */
export function accuracy(predicted: readonly number[], measured: readonly number[]): AccuracyMetrics {
  if (predicted.length !== measured.length) throw new RangeError(`'predicted' and 'measured' must have equal lengths, got ${predicted.length} and ${measured.length}`);
  if (measured.length < 2) throw new RangeError(`accuracy needs at least 2 networks, got ${measured.length}`);
  const rel = predicted.map((p, i) => (p - (measured[i] as number)) / (measured[i] as number));
  const sq = predicted.map((p, i) => (p - (measured[i] as number)) ** 2);
  return {
    n: measured.length,
    within10: rel.filter((r) => Math.abs(r) <= 0.1).length / rel.length,
    mape: mean(rel.map(Math.abs)),
    rmse: Math.sqrt(mean(sq)),
    spearman: sampleRankCorrelation([...predicted], [...measured]),
    kendall: kendallTau(predicted, measured),
    errP10: quantile(rel, 0.1),
    errP90: quantile(rel, 0.9),
  };
}
