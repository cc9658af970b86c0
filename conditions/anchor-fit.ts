import { median, medianAbsoluteDeviation } from 'simple-statistics';
import type { Measurement } from '../protocol/index.ts';
import { calibrationSlope } from './elasticity.ts';
import { isUsable } from './quality.ts';

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
  /**
   * groups (`passId|calibrationMs|anchorMs`) whose anchor figure disagrees with their calibration
   * and is the one off: their networks are normalised by the calibration instead
   */
  rejected: ReadonlySet<string>;
}

/** a group whose anchor and calibration disagree by more than this factor (or 5 robust SDs of the fit, if wider) is a spike */
const SPIKE_FACTOR = 1.2;
/** the measuring group of a network measurement: its pass, calibration and anchor figures */
export const groupKey = (m: Measurement): string => `${m.passId}|${m.calibrationMs}|${m.anchorMs}`;

/** the median absolute deviation scaled to a normal SD */
const robustSd = (xs: number[]): number => 1.4826 * medianAbsoluteDeviation(xs);

/**
 * Fits the anchor network's latency against the calibration figure over the groups of a device's
 * network measurements of one space (those that carry `anchorMs`): the elasticity with
 * elasticity.ts's prior and minimum of 8 groups (fewer, or no calibration: β = 1), and the
 * anchor's level at the reference calibration. Null when no measurement carries an anchor.
 *
 * One model measured once per group can be caught by a burst (a 2-thread session on a 2-core
 * machine saw its anchor run 3–6× slow in a fifth of the groups while the group's networks did
 * not): a group far off the fit is refitted without, and where its anchor is the more unusual of
 * its two figures it is listed in `rejected` (its networks fall back to the calibration).
 *
 * @example
 * const fit = anchorFit(store.listMeasurements({ deviceId, level: 'network', space: 'nasbench201' }), ref);
 * fit?.elasticity // ≈ 0.6 on this machine
 */
export function anchorFit(measurements: readonly Measurement[], ref: number | null): AnchorFit | null {
  // one point per group: the networks of a group share its calibration and anchor figures
  const groups = new Map<string, { x: number; y: number }>();
  for (const m of measurements) {
    if (m.level !== 'network' || !isUsable(m) || !(typeof m.anchorMs === 'number' && m.anchorMs > 0)) continue;
    const x = ref !== null && m.calibrationMs ? Math.log(m.calibrationMs / ref) : 0;
    groups.set(groupKey(m), { x, y: Math.log(m.anchorMs) });
  }
  if (groups.size === 0) return null;
  const fit = (pts: ReadonlyArray<{ x: number; y: number }>) => {
    // calibrationSlope regresses group means of log residuals (here: log anchor − x, the residual
    // of exponent 1) on x and returns β − 1; each point is its own group (distinct x almost surely)
    const beta = 1 + calibrationSlope(pts.map((p) => p.x), pts.map((p) => p.y - p.x));
    return { beta, level: median(pts.map((p) => p.y - beta * p.x)) };
  };
  const all = [...groups];
  let f = fit(all.map(([, p]) => p));
  const rejected = new Set<string>();
  if (all.length >= 8) {
    const resid = all.map(([, p]) => p.y - f.level - f.beta * p.x);
    const limit = Math.max(Math.log(SPIKE_FACTOR), 5 * robustSd(resid));
    const off = all.filter((_, i) => Math.abs(resid[i] as number) > limit);
    if (off.length > 0 && off.length < all.length / 2) {
      f = fit(all.filter((_, i) => Math.abs(resid[i] as number) <= limit).map(([, p]) => p));
      // which figure of an off group is the unusual one: its anchor (→ rejected) or its calibration
      const xs = all.map(([, p]) => p.x);
      const ys = all.map(([, p]) => p.y);
      const [mx, sx, my, sy] = [median(xs), Math.max(robustSd(xs), 1e-6), median(ys), Math.max(robustSd(ys), 1e-6)];
      for (const [key, p] of off) if (Math.abs(p.y - my) / sy >= Math.abs(p.x - mx) / sx) rejected.add(key);
    }
  }
  return { refMs: Math.exp(f.level), elasticity: f.beta, groups: all.length, rejected };
}

