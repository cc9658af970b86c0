/**
 * How strongly a space's networks follow the calibration workload when the machine's speed moves.
 *
 * Every measurement carries the calibration figure of its own group (Measurement.calibrationMs),
 * and normalising by it — ms · ref / cal — assumes a network slows down exactly as much as the
 * calibration network does. It does not: the calibration network's memory-bound depthwise
 * convolutions suffer more from a busy neighbour than small dense convolutions, so exponent-1
 * normalisation over-corrects slow groups. The predictor therefore learns the elasticity β in
 * ms ∝ cal^β from its training networks (they spread over many groups and calibration figures)
 * and predicts at a calibration c as ms_ref · (c / ref)^β. The measurements behind this are in
 * docs/benchmarks.md ("Predictor accuracy on this machine", calibration elasticity).
 */

/** A prior on β − 1: N(0, 0.5²). A pass whose calibration hardly moved leaves β at 1. */
const SLOPE_PRIOR_SD = 0.5;
/** β stays within [0, 2]: outside it the data are not about calibration any more. */
const SLOPE_LIMIT = 1;
/** below this spread of log calibration (1%), the data say nothing about β */
const MIN_SPREAD = 0.01;

/** fewer calibration groups than this say nothing about β (their noise is the group's, not the network's) */
const MIN_GROUPS = 8;

/**
 * The posterior mean of the slope s of log residuals on x = log(cal / ref), under the prior
 * s ~ N(0, 0.5²): β − 1 for residuals of exponent-1 normalised latencies. The networks of one
 * group share its calibration figure, so the regression runs on group means (the groups are the
 * independent samples; a pass of 3 groups cannot tell β from those groups' noise), weighted by
 * group size, with the spread of the group means around the line as noise. Returns 0 with fewer
 * than 8 groups or under 1% spread of calibration.
 *
 * @example
 * calibrationSlope([0, 0, 0.1, 0.1, -0.1, …], [0.01, -0.01, -0.04, -0.03, 0.04, …]); // ≈ -0.4: β ≈ 0.6
 */
export function calibrationSlope(x: readonly number[], logResidual: readonly number[]): number {
  if (x.length !== logResidual.length) throw new RangeError(`'x' and 'logResidual' must have the same length, got ${x.length} and ${logResidual.length}`);
  const groups = new Map<number, { n: number; sum: number }>();
  x.forEach((v, i) => {
    const g = groups.get(v) ?? { n: 0, sum: 0 };
    g.n++;
    g.sum += logResidual[i] as number;
    groups.set(v, g);
  });
  if (groups.size < MIN_GROUPS) return 0;
  const pts = [...groups].map(([gx, g]) => ({ x: gx, r: g.sum / g.n, w: g.n }));
  const W = pts.reduce((a, p) => a + p.w, 0);
  const mx = pts.reduce((a, p) => a + p.w * p.x, 0) / W;
  const mr = pts.reduce((a, p) => a + p.w * p.r, 0) / W;
  let sxx = 0;
  let sxr = 0;
  for (const p of pts) {
    sxx += p.w * (p.x - mx) ** 2;
    sxr += p.w * (p.x - mx) * (p.r - mr);
  }
  if (Math.sqrt(sxx / W) < MIN_SPREAD) return 0;
  const raw = sxr / sxx;
  // weighted residual variance of the group means (per unit weight), with 2 parameters fitted
  let noise = 0;
  for (const p of pts) noise += p.w * (p.r - mr - raw * (p.x - mx)) ** 2;
  noise /= ((pts.length - 2) / pts.length) * W;
  const s = sxr / (sxx + noise / (SLOPE_PRIOR_SD * SLOPE_PRIOR_SD));
  return Math.max(-SLOPE_LIMIT, Math.min(SLOPE_LIMIT, s));
}

/**
 * The factor from a latency at the reference calibration to one at calibration `current`:
 * (current / ref)^β. 1 when either is unknown.
 */
export function calibrationFactor(o: { current: number | null | undefined; reference: number | null; elasticity: number }): number {
  if (o.current === undefined || o.current === null) return 1;
  if (!(o.current > 0)) throw new RangeError(`'calibrationMs' must be > 0, got ${o.current}`);
  if (!o.reference) return 1;
  return Math.pow(o.current / o.reference, o.elasticity);
}
