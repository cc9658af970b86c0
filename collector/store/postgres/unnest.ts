import { KERNEL_COLUMNS, MEASUREMENT_COLUMNS } from '../rows.ts';

// What only PostgreSQL needs on top of the shared row mapping (../rows.ts): each column's SQL type
// and whole batches as one array per column, for `unnest()`: one statement and a fixed number of
// parameters however many rows a batch has.

/** each column's SQL type, for unnest() of one array per column */
export const MEASUREMENT_TYPES: Record<(typeof MEASUREMENT_COLUMNS)[number], string> = {
  id: 'text', device_id: 'text', pass_id: 'text', level: 'text', space: 'text', key: 'text', spec: 'json',
  batch: 'int', warmup: 'int', median_ms: 'float8', mean_ms: 'float8', p10_ms: 'float8', p90_ms: 'float8',
  stddev_ms: 'float8', min_ms: 'float8', cv: 'float8', repeats: 'int', outliers: 'int', wall_ms: 'float8',
  calibration_ms: 'float8', created_at: 'text', job_id: 'text', anchor_ms: 'float8', cold: 'json', quality: 'json',
  disturbed: 'bool',
};

/**
 * Rows as one array per column, for `INSERT … SELECT * FROM unnest($1::text[], …)`: one statement
 * and a fixed number of parameters however many rows a batch has.
 */
export function columnsOf<R extends object>(rows: readonly R[], columns: readonly (keyof R & string)[]): unknown[][] {
  return columns.map((c) => rows.map((r) => r[c]));
}

/** `unnest($1::text[], $2::int[], …)` for the columns, parameters numbered from `first`. */
export function unnestOf(columns: readonly string[], types: Record<string, string>, first = 1): string {
  return `unnest(${columns.map((c, i) => `$${first + i}::${types[c]}[]`).join(', ')})`;
}

export const KERNEL_TYPES: Record<(typeof KERNEL_COLUMNS)[number], string> = {
  profile_id: 'text', position: 'int', device_id: 'text', name: 'text', op: 'text',
  attrs: 'json', inputs: 'json', outputs: 'json', nodes: 'json', ms: 'float8',
};

