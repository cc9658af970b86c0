import { LutEntryError } from '../errors.ts';
import { isNonNegative } from '../math.ts';
import type { LutEntry } from '../types.ts';

/** The fields of an entry as a file gives them, before they are checked. */
export type RawEntryFields = Partial<Record<'count' | 'mean' | 'var' | 'median' | 'p10' | 'p90', unknown>>;

function describe(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : String(value);
}

/**
 * Checks one entry's fields and fills what the file left out. `mean` is required: it is the
 * figure every consumer (ProxylessNAS's loss, the predictor's sum) reads. count defaults to 1 and
 * var to 0 (one run, spread unknown), median to the mean, p10 and p90 to the lower and higher of
 * mean and median, as the OFA format has only count, mean and var. `where` (e.g. 'line 7') is added to the error message.
 */
export function checkedEntry(format: string, key: string, fields: RawEntryFields, where = ''): LutEntry {
  const at = where === '' ? '' : ` (${where})`;
  const num = (field: keyof RawEntryFields, fallback: number | undefined): number => {
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
    var: num('var', 0),
    median,
    // missing quantiles bracket the figures given, so they stay ordered around the median
    p10: num('p10', Math.min(mean, median)),
    p90: num('p90', Math.max(mean, median)),
  };
}

/** Formats a number so that both JS and PyYAML/Python read it back as the same number. */
export function formatNumber(value: number): string {
  const s = String(value);
  // PyYAML (YAML 1.1) reads `1e-07` as a string: a float needs a dot before its exponent
  return /e/i.test(s) && !s.includes('.') ? s.replace(/e/i, '.0e') : s;
}
