import { quantile } from 'simple-statistics';
import type { Measurement } from '../protocol/index.ts';
import { isUsable } from './quality.ts';

/**
 * The reference calibration of a device: the median calibration figure over its usable
 * measurements (op and network level alike, disturbed ones left out). Every latency of the device
 * is expressed at this speed before LUTs and networks from different passes are combined (this
 * machine's speed moved 14–22% between passes). The one definition: the LUT export of the CLI, the
 * HTTP API, the dashboard and training all call this with the device's measurements.
 */
export function referenceCalibration(measurements: readonly Measurement[]): number | null {
  const cal = measurements
    .filter(isUsable)
    .map((m) => m.calibrationMs)
    .filter((c): c is number => typeof c === 'number' && c > 0);
  return cal.length > 0 ? quantile(cal, 0.5) : null;
}

/** A measurement's median latency expressed at the reference calibration (exponent 1). */
export function normalisedMs(m: Measurement, ref: number | null): number {
  return ref !== null && m.calibrationMs ? (m.stats.median * ref) / m.calibrationMs : m.stats.median;
}
