import { getSpace, spaceUnits, type OpSpec, type SearchSpace } from '../ops-library/index.ts';
import type { Measurement } from '../protocol/index.ts';
import { LutEntryError } from './errors.ts';
import { isNonNegative } from './math.ts';
import type { LutEntry, LutEntryInput, LutImportOptions } from './types.ts';

/**
 * Turns LUT entries (an imported ProxylessNAS/FBNet table, say) into op-level measurements, so an
 * imported LUT is stored like a profiled one and every LUT and predictor path works on it.
 *
 * Stats come from the entry's storedFigures: median, p10, p90 and mean as they are, stddev = √var,
 * min = p10 (the fastest figure the table gives), cv = stddev / mean, repeats = count, no
 * outliers. calibrationMs is null: a foreign table carries no calibration of ours, so buildLut
 * uses it as it is. Ids are `${passId}:${index}` in entry order, so importing the
 * same table under the same pass again yields the same ids and the store ignores them as duplicates.
 * Throws LutEntryError for an entry with a negative or non-finite figure.
 *
 * @example
 * import { lutToMeasurements, specsOfSpace } from './lut/index.ts';
 * const entries = new Map([['Logits-input:7x7x1280-output:1000',
 *   { key: 'Logits-input:7x7x1280-output:1000', count: 50, mean: 0.2, var: 0.0004 }]]);
 * const [m] = lutToMeasurements(entries, { deviceId: 'dev-0123456789ab', passId: 'pass-imported-1',
 *   space: 'proxyless-mobile', specOf: specsOfSpace('proxyless-mobile') });
 * console.log(m?.id, m?.stats.stddev); // 'pass-imported-1:0' 0.02
 */
export function lutToMeasurements(entries: ReadonlyMap<string, LutEntryInput>, options: LutImportOptions): Measurement[] {
  if (!(entries instanceof Map)) throw new TypeError(`'entries' must be a Map of key → entry, got ${typeof entries}`);
  for (const field of ['deviceId', 'passId'] as const) {
    if (typeof options?.[field] !== 'string' || options[field] === '') throw new TypeError(`'options.${field}' must be a non-empty string`);
  }
  const createdAt = options.createdAt ?? new Date().toISOString();
  const out: Measurement[] = [];
  let index = 0;
  for (const [key, e] of entries) {
    const f = storedFigures(key, e);
    const stddev = Math.sqrt(f.var);
    const m: Measurement = {
      id: `${options.passId}:${index++}`,
      deviceId: options.deviceId,
      passId: options.passId,
      level: 'op',
      space: options.space,
      key,
      batch: 1,
      warmup: 0,
      stats: {
        median: f.median,
        mean: f.mean,
        p10: f.p10,
        p90: f.p90,
        stddev,
        min: f.p10,
        cv: f.mean > 0 ? stddev / f.mean : 0,
        repeats: f.count,
        outliers: 0,
      },
      wallMs: 0,
      calibrationMs: null,
      createdAt,
    };
    const spec = options.specOf?.(key);
    // no spec is left out rather than stored as null: the store reads SQL NULL back as "absent"
    if (spec !== undefined) m.spec = spec;
    out.push(m);
  }
  return out;
}

/**
 * The figures an entry is stored as, and so what a LUT built from its measurement gives back:
 * median = median ?? mean; p10/p90 = given, else the lower/higher of mean and median (a file that
 * gives a median but no quantiles: they bracket the figures it has, so the statistics stay
 * ordered, min <= p10 <= median <= p90, as the protocol requires); count = max(1, round(count)).
 * Throws LutEntryError for a negative or non-finite figure.
 *
 * @example
 * import { storedFigures } from './lut/index.ts';
 * storedFigures('k', { key: 'k', count: 0, mean: 2, var: 0.01, median: 1.9 });
 * // { key: 'k', count: 1, mean: 2, var: 0.01, median: 1.9, p10: 1.9, p90: 2 }
 */
export function storedFigures(key: string, e: LutEntryInput): LutEntry {
  const check = (field: keyof LutEntryInput, value: unknown): number => {
    if (!isNonNegative(value)) throw new LutEntryError('imported', key, field, `must be a finite number >= 0, got ${String(value)}`);
    return value;
  };
  const mean = check('mean', e.mean);
  const variance = check('var', e.var);
  const median = e.median === undefined ? mean : check('median', e.median);
  const p10 = e.p10 === undefined ? Math.min(mean, median) : check('p10', e.p10);
  const p90 = e.p90 === undefined ? Math.max(mean, median) : check('p90', e.p90);
  return { key, count: Math.max(1, Math.round(check('count', e.count))), mean, var: variance, median, p10, p90 };
}

/**
 * key → op spec over every LUT unit of a space (ops-library's spaceUnits), for
 * lutToMeasurements' `specOf`: imported entries then carry the spec the regressor needs.
 *
 * @example
 * import { specsOfSpace } from './lut/index.ts';
 * specsOfSpace('proxyless-mobile')('Logits-input:7x7x1280-output:1000'); // { op: 'logits', input: [1280, 7, 7], classes: 1000 }
 */
export function specsOfSpace(space: SearchSpace | string): (key: string) => OpSpec | undefined {
  const units = spaceUnits(typeof space === 'string' ? getSpace(space) : space);
  return (key) => units.get(key);
}
