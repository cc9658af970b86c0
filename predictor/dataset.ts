import { quantile } from 'simple-statistics';
import type { Measurement } from '../protocol/index.ts';
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

/** Network-level measurements as training samples, normalised to `ref`. */
export function networkSamples(measurements: readonly Measurement[], ref: number | null): NetworkSample[] {
  return measurements.filter((m) => m.level === 'network').map((m) => ({ arch: m.key, ms: normalisedMs(m, ref), passId: m.passId, calibrationMs: m.calibrationMs ?? null }));
}
