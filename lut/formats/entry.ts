import { LutEntryError } from '../errors.ts';
import { isNonNegative } from '../math.ts';
import type { LutEntry } from '../types.ts';

/** The fields of an entry as a file gives them, before they are checked. */
export type RawEntryFields = Partial<Record<'count' | 'mean' | 'var' | 'std' | 'median' | 'p10' | 'p90', unknown>>;

/**
 * How far apart `var` and `std`² may be when a file gives both: the relative difference a figure
 * written with 15 significant digits can carry, far below any real disagreement.
 */
const STD_VAR_TOLERANCE = 1e-9;

/** Reads one field as a number >= 0, `fallback` when absent (undefined: the field is required). */
type ReadField = (field: keyof RawEntryFields, fallback: number | undefined) => number;

function describe(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : String(value);
}

/**
 * Checks one entry's fields and fills what the file left out. `mean` is required: it is the
 * figure every consumer (ProxylessNAS's loss, the predictor's sum) reads. count defaults to 1;
 * var is `var`, else `std`² (OFA's tables give the standard deviation), else 0 (spread unknown);
 * median defaults to the mean, p10 and p90 to the lower and higher of mean and median, as the
 * ProxylessNAS/OFA files have only count, mean and var (or std). `where` (e.g. 'line 7') is added
 * to the error message.
 */
export function checkedEntry(format: string, key: string, fields: RawEntryFields, where = ''): LutEntry {
  const at = where === '' ? '' : ` (${where})`;
  const num: ReadField = (field, fallback) => {
    const value = fields[field];
    if (value === undefined || value === null) {
      if (fallback === undefined) throw new LutEntryError(format, key, field, `is missing${at}`);
      return fallback;
    }
    if (!isNonNegative(value)) throw new LutEntryError(format, key, field, `must be a finite number >= 0, got ${describe(value)}${at}`);
    return value;
  };
  const mean = num('mean', undefined);
  const count = num('count', 1);
  if (!Number.isInteger(count)) throw new LutEntryError(format, key, 'count', `must be an integer >= 0, got ${count}${at}`);
  const median = num('median', mean);
  return {
    key,
    count,
    mean,
    var: variance(format, key, fields, num, at),
    median,
    // missing quantiles bracket the figures given, so they stay ordered around the median
    p10: num('p10', Math.min(mean, median)),
    p90: num('p90', Math.max(mean, median)),
  };
}

/**
 * The entry's variance: `var`, or `std`² where the file gives the standard deviation instead (OFA's
 * tables do), else 0 (spread unknown). A file giving both must give the same spread: two figures
 * that disagree are an error, never one of them silently kept.
 */
function variance(format: string, key: string, fields: RawEntryFields, num: ReadField, at: string): number {
  const hasVar = fields.var !== undefined && fields.var !== null;
  const hasStd = fields.std !== undefined && fields.std !== null;
  if (!hasStd) return num('var', 0);
  const std = num('std', undefined);
  const fromStd = std * std;
  if (!hasVar) return fromStd;
  const given = num('var', undefined);
  if (Math.abs(given - fromStd) > STD_VAR_TOLERANCE * Math.max(given, fromStd)) {
    throw new LutEntryError(format, key, 'std', `is ${std}, so the variance is ${fromStd}, but 'var' is ${given}: give one of them${at}`);
  }
  return given;
}

/** Formats a number so that both JS and PyYAML/Python read it back as the same number. */
export function formatNumber(value: number): string {
  const s = String(value);
  // PyYAML (YAML 1.1) reads `1e-07` as a string: a float needs a dot before its exponent
  return /e/i.test(s) && !s.includes('.') ? s.replace(/e/i, '.0e') : s;
}
