import { storedFigures } from './import.ts';
import type { Lut, LutEntry, LutEntryInput } from './types.ts';

/**
 * The relative difference under which two LUT figures are the same figure. A stored entry comes
 * back through a measurement's stddev (var → √var → var), which moves var by an ulp or so; a yaml
 * or csv written by another tool may round to 15 significant digits. Real re-measurements differ
 * by percents.
 */
export const LUT_FIGURE_TOLERANCE = 1e-9;

const FIGURES = ['mean', 'var', 'median', 'p10', 'p90'] as const;

/**
 * True when `stored` already says what `entry` says: the same count and every figure within
 * `tolerance` (relative). `entry` is compared as it would be stored (storedFigures: count 0 is 1,
 * missing quantiles bracket the mean and median).
 *
 * @example
 * import { sameLutEntry } from './lut/index.ts';
 * const stored = { key: 'k', count: 50, mean: 4.37, var: 0.04000000000000001, median: 4.37, p10: 4.37, p90: 4.37 };
 * sameLutEntry({ key: 'k', count: 50, mean: 4.37, var: 0.04 }, stored); // true
 * sameLutEntry({ key: 'k', count: 50, mean: 4.38, var: 0.04 }, stored); // false
 */
export function sameLutEntry(entry: LutEntryInput, stored: LutEntry, tolerance = LUT_FIGURE_TOLERANCE): boolean {
  if (!(tolerance >= 0)) throw new RangeError(`'tolerance' must be a number >= 0, got ${tolerance}`);
  const e = storedFigures(entry.key, entry);
  if (e.key !== stored.key || e.count !== stored.count) return false;
  return FIGURES.every((f) => Math.abs(e[f] - stored[f]) <= tolerance * Math.max(Math.abs(e[f]), Math.abs(stored[f])));
}

/**
 * The entries `lut` does not already hold (by sameLutEntry), in their order: what an import has to
 * store so that the device's LUT says what the file says. Importing a device's own export again
 * (or the same table twice) leaves nothing, however its figures were rounded on the way.
 *
 * @example
 * import { buildLut, unstoredEntries, LUT_FORMATS } from './lut/index.ts';
 * const lut = buildLut(store.listMeasurements({ deviceId, level: 'op' }), { deviceId });
 * unstoredEntries(LUT_FORMATS.proxyless.parse(text), lut).size; // 0 when the text is the device's own export
 */
export function unstoredEntries<E extends LutEntryInput>(entries: ReadonlyMap<string, E>, lut: Lut, tolerance = LUT_FIGURE_TOLERANCE): Map<string, E> {
  const out = new Map<string, E>();
  for (const [key, e] of entries) {
    const stored = lut.entries.get(key);
    if (!stored || !sameLutEntry(e, stored, tolerance)) out.set(key, e);
  }
  return out;
}
