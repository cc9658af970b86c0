import { sampleRankCorrelation } from 'simple-statistics';

/**
 * Spearman's ρ with tie-corrected (average) ranks: the Pearson correlation of the ranks
 * (simple-statistics' sampleRankCorrelation, scipy's `spearmanr`). Phones' latencies are whole
 * milliseconds, so ties are common and must not be broken arbitrarily. 0 when either side is
 * constant or shorter than 2 (no order to agree with).
 *
 * @example
 * spearman([1, 2, 3], [10, 30, 20]) // 0.5
 */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`'a' and 'b' must have equal lengths, got ${a.length} and ${b.length}`);
  if (a.length < 2) return 0;
  const rho = sampleRankCorrelation(Array.from(a), Array.from(b));
  return Number.isFinite(rho) ? rho : 0;
}

/** Share of predictions within ±`tol` (relative) of the measurement. */
export function withinShare(predicted: ArrayLike<number>, measured: ArrayLike<number>, tol = 0.1): number {
  let hit = 0;
  for (let i = 0; i < measured.length; i++) if (Math.abs((predicted[i] as number) / (measured[i] as number) - 1) <= tol + 1e-12) hit++;
  return measured.length === 0 ? 0 : hit / measured.length;
}

/**
 * The highest Spearman ρ any prediction without ties can reach against `measured`: a prediction
 * in the measured order cannot order architectures the measurement ties (whole-millisecond
 * phone columns), and average ranks then cap ρ below 1.
 *
 * @example
 * spearmanTieBound([1, 1, 2]) // 0.866…
 */
export function spearmanTieBound(measured: ArrayLike<number>): number {
  const n = measured.length;
  // break the ties by position: a strict order that agrees with the measured one
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (measured[a] as number) - (measured[b] as number) || a - b);
  const strict = new Float64Array(n);
  order.forEach((i, r) => (strict[i] = r));
  return spearman(measured, strict);
}
