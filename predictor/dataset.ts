import { groupKey, isUsable, normalisedMs, type AnchorFit } from '../conditions/index.ts';
import type { Measurement } from '../protocol/index.ts';
import type { NetworkSample } from './types.ts';

/**
 * Network-level measurements as training samples, expressed at the reference calibration: by
 * their group's anchor when they carry one and `anchor` is given and has not rejected the group
 * (ms · anchor.refMs / anchorMs), else by their group's calibration (exponent 1; the predictor
 * applies the elasticity). Disturbed measurements (conditions/quality.ts) are left out.
 */
export function networkSamples(measurements: readonly Measurement[], ref: number | null, anchor: AnchorFit | null = null): NetworkSample[] {
  return measurements
    .filter((m) => m.level === 'network' && isUsable(m))
    .map((m) => {
      const base = { arch: m.key, passId: m.passId, calibrationMs: m.calibrationMs ?? null };
      if (anchor && typeof m.anchorMs === 'number' && m.anchorMs > 0 && !anchor.rejected.has(groupKey(m))) {
        return { ...base, ms: (m.stats.median * anchor.refMs) / m.anchorMs, anchorMs: m.anchorMs };
      }
      return { ...base, ms: normalisedMs(m, ref) };
    });
}
