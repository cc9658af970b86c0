/** Ranks from 1, ties given their average rank. */
export function averageRanks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (values[a] as number) - (values[b] as number));
  const ranks = new Float64Array(n);
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && values[order[j + 1] as number] === values[order[i] as number]) j++;
    const r = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k] as number] = r;
    i = j + 1;
  }
  return ranks;
}

/**
 * Spearman's ρ with tie-corrected (average) ranks: the Pearson correlation of the ranks. Phones'
 * latencies are whole milliseconds, so ties are common and must not be broken arbitrarily.
 *
 * @example
 * spearman([1, 2, 3], [10, 30, 20]) // 0.5
 */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`'a' and 'b' must have equal lengths, got ${a.length} and ${b.length}`);
  const ra = averageRanks(a);
  const rb = averageRanks(b);
  const n = a.length;
  const m = (n + 1) / 2;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const x = (ra[i] as number) - m;
    const y = (rb[i] as number) - m;
    sab += x * y;
    saa += x * x;
    sbb += y * y;
  }
  return saa === 0 || sbb === 0 ? 0 : sab / Math.sqrt(saa * sbb);
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
