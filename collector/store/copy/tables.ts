import { CopySchemaError } from './errors.ts';

/**
 * The tables `hwlat db copy` moves, in an order that satisfies every foreign key but the
 * job ↔ measurement cycle (deferred on both sides during the copy), with each column's kind.
 * Both backends have these tables and columns by the same names (PostgreSQL adds measurements.seq,
 * its stand-in for SQLite's rowid, which a copy re-creates in the same order). A database whose
 * columns differ from these (a newer or older schema) is refused before anything is copied, so a
 * copy can never drop a column it does not know.
 */

/** How a column's values travel: JSON as its text, flags as booleans, epoch ms as bigint. */
export type ColumnKind = 'text' | 'int' | 'bigint' | 'float8' | 'json' | 'bool';

export interface TableSpec {
  name: TableName;
  columns: readonly (readonly [string, ColumnKind])[];
  /** PostgreSQL read order (keyset); SQLite reads by rowid, which is insertion order */
  pgKey: readonly string[];
}

export const TABLE_NAMES = [
  'devices', 'passes', 'campaigns', 'campaign_tasks', 'campaign_devices', 'jobs', 'measurements', 'kernel_profiles', 'timed_kernels',
] as const;
export type TableName = (typeof TABLE_NAMES)[number];

const t = (name: string): readonly [string, ColumnKind] => [name, 'text'];

export const TABLES: readonly TableSpec[] = Object.freeze([
  {
    name: 'devices',
    columns: [t('id'), t('name'), ['hardware', 'json'], ['runtime', 'json'], t('backend'), t('provider'), t('runtime_version'), ['threads', 'int'], t('created_at'), t('updated_at')],
    pgKey: ['id'],
  },
  {
    name: 'passes',
    columns: [t('id'), t('device_id'), t('started_at'), t('finished_at'), t('calibration_key'), ['calibration_ms', 'float8'], ['calibration_trace', 'json']],
    pgKey: ['id'],
  },
  {
    name: 'campaigns',
    columns: [t('id'), t('created_at'), ['request', 'json'], ['all_devices', 'bool'], ['tasks', 'int']],
    pgKey: ['id'],
  },
  {
    name: 'campaign_tasks',
    columns: [t('campaign_id'), ['idx', 'int'], t('level'), t('space'), t('key'), ['payload', 'json']],
    pgKey: ['campaign_id', 'idx'],
  },
  {
    name: 'campaign_devices',
    columns: [t('campaign_id'), t('device_id')],
    pgKey: ['campaign_id', 'device_id'],
  },
  {
    name: 'jobs',
    columns: [
      t('id'), t('campaign_id'), ['task_idx', 'int'], t('device_id'), t('status'), t('lease_id'), t('lease_owner'), ['lease_expires_at', 'bigint'],
      ['attempts', 'int'], t('result_id'), ['done_at', 'bigint'], t('created_at'), ['failures', 'int'], t('last_error'), ['disturbed', 'int'],
      ['not_before', 'bigint'],
    ],
    pgKey: ['id'],
  },
  {
    name: 'measurements',
    columns: [
      t('id'), t('device_id'), t('pass_id'), t('level'), t('space'), t('key'), ['spec', 'json'], ['batch', 'int'], ['warmup', 'int'],
      ['median_ms', 'float8'], ['mean_ms', 'float8'], ['p10_ms', 'float8'], ['p90_ms', 'float8'], ['stddev_ms', 'float8'], ['min_ms', 'float8'],
      ['cv', 'float8'], ['repeats', 'int'], ['outliers', 'int'], ['wall_ms', 'float8'], ['calibration_ms', 'float8'], t('created_at'), t('job_id'),
      ['anchor_ms', 'float8'], ['cold', 'json'], ['quality', 'json'], ['disturbed', 'bool'],
    ],
    // insertion order: "a device's last results" (persistent disturbance) must mean the same after a copy
    pgKey: ['seq'],
  },
  {
    name: 'kernel_profiles',
    columns: [
      t('id'), t('device_id'), t('source'), t('measurement_id'), t('space'), t('key'), ['spec', 'json'], ['batch', 'int'], ['calibration_ms', 'float8'],
      ['runs', 'int'], ['warmup', 'int'], ['run_ms', 'float8'], ['kernel_sum_ms', 'float8'], ['kernels', 'int'], ['disturbed', 'bool'], t('created_at'),
    ],
    pgKey: ['id'],
  },
  {
    name: 'timed_kernels',
    columns: [
      t('profile_id'), ['position', 'int'], t('device_id'), t('name'), t('op'), ['attrs', 'json'], ['inputs', 'json'], ['outputs', 'json'],
      ['nodes', 'json'], ['ms', 'float8'],
    ],
    pgKey: ['profile_id', 'position'],
  },
]);

/** Columns a backend has beyond the copied ones (filled in by the database itself). */
export const GENERATED_COLUMNS: Readonly<Record<'sqlite' | 'postgres', Partial<Record<TableName, readonly string[]>>>> = {
  sqlite: {},
  postgres: { measurements: ['seq'] },
};

/** A row in transit: column name → text, number, boolean or null (JSON as its text). */
export type Row = Record<string, string | number | boolean | null>;

/** Per table, how many rows. */
export type TableCounts = Record<TableName, number>;

/**
 * CopySchemaError when a database's columns differ from the copy's, naming the missing and the
 * unknown columns.
 */
export function checkColumns(label: string, kind: 'sqlite' | 'postgres', actual: ReadonlyMap<TableName, readonly string[]>): void {
  const problems: string[] = [];
  for (const spec of TABLES) {
    const have = new Set(actual.get(spec.name) ?? []);
    for (const g of GENERATED_COLUMNS[kind][spec.name] ?? []) have.delete(g);
    const want = spec.columns.map(([c]) => c);
    const missing = want.filter((c) => !have.has(c));
    const extra = [...have].filter((c) => !want.includes(c));
    if (have.size === 0) problems.push(`table ${spec.name} is missing`);
    else if (missing.length > 0 || extra.length > 0) {
      problems.push(`${spec.name}: ${[missing.length ? `missing ${missing.join(', ')}` : '', extra.length ? `unknown ${extra.join(', ')}` : ''].filter(Boolean).join('; ')}`);
    }
  }
  if (problems.length > 0) throw new CopySchemaError(label, problems);
}
