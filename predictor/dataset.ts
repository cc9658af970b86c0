import { quantile } from 'simple-statistics';
import type { Measurement } from '../protocol/index.ts';
import { calibrationSlope } from './elasticity.ts';
import type { NetworkSample } from './types.ts';

/**
 * The reference calibration of a device: the median calibration latency over its measurements.
 * Every latency is expressed at this speed before LUTs and networks from different passes are
 * combined (this machine's speed moved 14–22% between passes).
 */
export function referenceCalibration(measurements: readonly Measurement[]): number | null {
  const cal = measurements.map((m) => m.calibrationMs).filter((c): c is number => typeof c === 'number' && c > 0);
  return cal.length > 0 ? quantile(cal, 0.5) : null;
}

/** A measurement's median latency expressed at the reference calibration. */
export function normalisedMs(m: Measurement, ref: number | null): number {
  return ref !== null && m.calibrationMs ? (m.stats.median * ref) / m.calibrationMs : m.stats.median;
}

/**
 * How a space's anchor network (agent/anchors.ts) follows the calibration workload on a device:
 * log anchor = log refMs + β · log(cal / ref), over the groups (one anchor figure each).
 */
export interface AnchorFit {
  /** the anchor's latency at the reference calibration, ms */
  refMs: number;
  /** β: the space's networks are normalised by their anchor, so this is their elasticity too */
  elasticity: number;
  /** distinct measuring groups the fit saw */
  groups: number;
}

/**
 * Fits the anchor network's latency against the calibration figure over the groups of a device's
 * network measurements of one space (those that carry `anchorMs`): the elasticity with
 * elasticity.ts's prior and minimum of 8 groups (fewer, or no calibration: β = 1), and the
 * anchor's level at the reference calibration. Null when no measurement carries an anchor.
 *
 * @example
 * const fit = anchorFit(store.listMeasurements({ deviceId, level: 'network', space: 'nasbench201' }), ref);
 * fit?.elasticity // ≈ 0.6 on this machine
 */
export function anchorFit(measurements: readonly Measurement[], ref: number | null): AnchorFit | null {
  // one point per group: the networks of a group share its calibration and anchor figures
  const groups = new Map<string, { x: number; y: number }>();
  for (const m of measurements) {
    if (m.level !== 'network' || !(typeof m.anchorMs === 'number' && m.anchorMs > 0)) continue;
    const x = ref !== null && m.calibrationMs ? Math.log(m.calibrationMs / ref) : 0;
    groups.set(`${m.passId}|${m.calibrationMs}|${m.anchorMs}`, { x, y: Math.log(m.anchorMs) });
  }
  if (groups.size === 0) return null;
  const pts = [...groups.values()];
  // calibrationSlope regresses group means of log residuals (here: log anchor − x, the residual
  // of exponent 1) on x and returns β − 1; each point is its own group (distinct x almost surely)
  const beta = 1 + calibrationSlope(pts.map((p) => p.x), pts.map((p) => p.y - p.x));
  const level = quantile(pts.map((p) => p.y - beta * p.x), 0.5);
  return { refMs: Math.exp(level), elasticity: beta, groups: pts.length };
}

/**
 * Network-level measurements as training samples, expressed at the reference calibration: by
 * their group's anchor when they carry one and `anchor` is given (ms · anchor.refMs / anchorMs),
 * else by their group's calibration (exponent 1; the predictor learns the elasticity).
 */
export function networkSamples(measurements: readonly Measurement[], ref: number | null, anchor: AnchorFit | null = null): NetworkSample[] {
  return measurements
    .filter((m) => m.level === 'network')
    .map((m) => {
      const base = { arch: m.key, passId: m.passId, calibrationMs: m.calibrationMs ?? null };
      if (anchor && typeof m.anchorMs === 'number' && m.anchorMs > 0) return { ...base, ms: (m.stats.median * anchor.refMs) / m.anchorMs, anchorMs: m.anchorMs };
      return { ...base, ms: normalisedMs(m, ref) };
    });
}
