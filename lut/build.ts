import { isUsable, referenceCalibration } from '../conditions/index.ts';
import type { Measurement } from '../protocol/index.ts';
import { median } from 'simple-statistics';
import type { BuildLutOptions, Lut, LutEntry } from './types.ts';

/** One op-level measurement's statistics, rescaled to the reference calibration. */
interface Scaled {
  repeats: number;
  mean: number;
  var: number;
  median: number;
  p10: number;
  p90: number;
}

/**
 * Builds a device's LUT from its op-level measurements (network-level ones are ignored: they are
 * what the LUT sum is compared with, not part of it).
 *
 * Measurements come from different passes, and the machine's speed differs between passes
 * (docs/benchmarks.md, reproducibility across processes), so every measurement is first rescaled to one reference
 * calibration: value × (ref / m.calibrationMs), ref = options.calibrationMs ?? the reference
 * calibration of the op-level measurements (conditions/reference.ts). A measurement without a
 * calibration is used as it is (there is nothing to rescale it by); with no calibration anywhere
 * the LUT's calibrationMs is null. Measurements stored `disturbed` (conditions/quality.ts) are
 * left out: no LUT entry comes from one.
 *
 * Several measurements of one key combine into: count = Σ repeats; mean = the repeat-weighted mean
 * of the means; var = the pooled variance of all runs (within-measurement variance plus the spread
 * of the means, population form like the harness's stddev); median, p10, p90 = the median of the
 * measurements' medians, p10s, p90s (quantiles do not pool, and the median of them is robust to
 * one disturbed pass).
 *
 * Throws TypeError for a measurement list that is not an array or an unknown device, RangeError
 * when the measurements (or options.deviceId) name different devices.
 *
 * @example
 * import { buildLut, lutLookup } from './lut/index.ts';
 * const stats = { median: 2, mean: 2, p10: 1.8, p90: 2.2, stddev: 0.1, min: 1.7, cv: 0.05, repeats: 10, outliers: 0 };
 * const m = { id: 'pass-1:0', deviceId: 'dev-0123456789ab', passId: 'pass-1', level: 'op' as const, space: null,
 *   key: 'Logits-input:7x7x1280-output:1000', batch: 1, warmup: 3, stats, wallMs: 30, calibrationMs: 5,
 *   createdAt: new Date().toISOString() };
 * const lut = buildLut([m]);
 * console.log(lutLookup(lut, m.key)?.mean); // 2
 */
export function buildLut(measurements: readonly Measurement[], options: BuildLutOptions = {}): Lut {
  if (!Array.isArray(measurements)) {
    throw new TypeError(`'measurements' must be an array of measurements, got ${typeof measurements}`);
  }
  // every measurement (network-level too) must be the device's: a LUT mixing devices is meaningless
  let deviceId = options.deviceId;
  let deviceFrom = "'options.deviceId'";
  measurements.forEach((m, i) => {
    if (deviceId === undefined) {
      deviceId = m.deviceId;
      deviceFrom = `measurements[${i}]`;
    } else if (m.deviceId !== deviceId) {
      throw new RangeError(`'measurements' mix devices: '${deviceId}' (${deviceFrom}) and '${m.deviceId}' (measurements[${i}])`);
    }
  });
  if (deviceId === undefined || deviceId === '') {
    throw new TypeError("'options.deviceId' is required when 'measurements' is empty: the LUT must name its device");
  }
  const ref = options.calibrationMs ?? null;
  if (ref !== null && !(Number.isFinite(ref) && ref > 0)) {
    throw new RangeError(`'options.calibrationMs' must be a positive number, got ${ref}`);
  }

  const ops = measurements.filter((m) => m.level === 'op' && isUsable(m));
  const refMs = ref ?? referenceCalibration(ops);

  const byKey = new Map<string, Scaled[]>();
  for (const m of ops) {
    const factor = refMs !== null && m.calibrationMs != null ? refMs / m.calibrationMs : 1;
    const s = m.stats;
    const scaled: Scaled = {
      repeats: s.repeats,
      mean: s.mean * factor,
      // a variance scales with the square of the unit
      var: s.stddev * s.stddev * factor * factor,
      median: s.median * factor,
      p10: s.p10 * factor,
      p90: s.p90 * factor,
    };
    const list = byKey.get(m.key);
    if (list) list.push(scaled);
    else byKey.set(m.key, [scaled]);
  }

  const entries = new Map<string, LutEntry>();
  for (const [key, list] of byKey) entries.set(key, combine(key, list));

  const spaces = new Set(ops.map((m) => m.space));
  const space = options.space !== undefined ? options.space : spaces.size === 1 ? ([...spaces][0] ?? null) : null;
  return { deviceId, space, calibrationMs: refMs, entries };
}

/** Pools the rescaled measurements of one key (see buildLut for the rules). */
function combine(key: string, list: readonly Scaled[]): LutEntry {
  const count = list.reduce((n, s) => n + s.repeats, 0);
  const mean = list.reduce((acc, s) => acc + s.repeats * s.mean, 0) / count;
  // law of total variance: E[within] + Var[between], each run weighted equally
  const pooled = list.reduce((acc, s) => acc + s.repeats * (s.var + (s.mean - mean) ** 2), 0) / count;
  return {
    key,
    count,
    mean,
    var: pooled,
    median: median(list.map((s) => s.median)),
    p10: median(list.map((s) => s.p10)),
    p90: median(list.map((s) => s.p90)),
  };
}

/**
 * The entry of `key` in the LUT, or undefined on a miss (the predictor then asks its regressor).
 *
 * @example
 * import { lutLookup } from './lut/index.ts';
 * const lut = { deviceId: 'dev-0123456789ab', calibrationMs: null, entries: new Map() };
 * console.log(lutLookup(lut, 'Logits-input:7x7x1280-output:1000')); // undefined
 */
export function lutLookup(lut: Lut, key: string): LutEntry | undefined {
  if (typeof key !== 'string') throw new TypeError(`'key' must be a string, got ${typeof key}`);
  return lut.entries.get(key);
}
