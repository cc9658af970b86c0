import type { Measurement } from '../../../protocol/index.ts';
import { checkMeasurementReferences } from '../references.ts';
import type { MeasurementFilter } from '../types.ts';
import type { PgDb, Queryable } from './db.ts';
import { MEASUREMENT_COLUMNS, measurementFromRow, measurementToRow, type MeasurementRow } from '../rows.ts';
import { MEASUREMENT_TYPES, columnsOf, unnestOf } from './unnest.ts';

// Measurements on PostgreSQL, for the backend (backend.ts) and completeJob (jobs.ts).

/**
 * Checks the measurements' devices and passes inside the caller's transaction (StoreReferenceError
 * naming the first bad one). FOR SHARE keeps the rows it read from changing until the commit.
 */
export async function checkReferences(c: Queryable, ms: readonly Measurement[], label: (i: number) => string): Promise<void> {
  const deviceIds = [...new Set(ms.map((m) => m.deviceId))];
  const passIds = [...new Set(ms.map((m) => m.passId))];
  const devices = await c.query<{ id: string }>('SELECT id FROM devices WHERE id = ANY($1::text[]) FOR SHARE', [deviceIds]);
  const passes = await c.query<{ id: string; device_id: string }>('SELECT id, device_id FROM passes WHERE id = ANY($1::text[]) FOR SHARE', [passIds]);
  checkMeasurementReferences(
    ms,
    new Set(devices.rows.map((r) => r.id)),
    new Map(passes.rows.map((r) => [r.id, r.device_id])),
    label,
  );
}

const INSERT = `INSERT INTO measurements (${MEASUREMENT_COLUMNS.join(', ')})
  SELECT * FROM ${unnestOf(MEASUREMENT_COLUMNS, MEASUREMENT_TYPES)}
  ON CONFLICT (id) DO NOTHING`;

/** Inserts rows (a known id is skipped); returns how many were inserted. Inside the caller's transaction. */
export async function writeMeasurements(c: Queryable, ms: readonly Measurement[]): Promise<number> {
  const rows = ms.map(measurementToRow);
  const res = await c.query({ name: 'hwlat_insert_measurements', text: INSERT, values: columnsOf(rows, MEASUREMENT_COLUMNS) });
  return res.rowCount ?? 0;
}

export async function insertMeasurements(db: PgDb, ms: readonly Measurement[]): Promise<number> {
  return db.tx('insertMeasurements', async (c) => {
    await checkReferences(c, ms, (i) => `measurements[${i}]`);
    return writeMeasurements(c, ms);
  });
}

/** WHERE clause and parameters of a (validated) measurement filter; LIMIT is the caller's. */
function where(f: MeasurementFilter): { sql: string; params: unknown[] } {
  const terms: string[] = [];
  const params: unknown[] = [];
  const add = (term: (n: string) => string, value: unknown): void => {
    params.push(value);
    terms.push(term(`$${params.length}`));
  };
  if (f.deviceId !== undefined) add((p) => `device_id = ${p}`, f.deviceId);
  if (f.level !== undefined) add((p) => `level = ${p}`, f.level);
  if (f.space === null) terms.push('space IS NULL');
  else if (f.space !== undefined) add((p) => `space = ${p}`, f.space);
  if (f.key !== undefined) add((p) => `key = ${p}`, f.key);
  return { sql: terms.length > 0 ? ` WHERE ${terms.join(' AND ')}` : '', params };
}

export async function listMeasurements(db: PgDb, f: MeasurementFilter): Promise<Measurement[]> {
  const q = where(f);
  let sql = `SELECT ${MEASUREMENT_COLUMNS.join(', ')} FROM measurements${q.sql} ORDER BY created_at, id`;
  if (f.limit !== undefined) {
    q.params.push(f.limit);
    sql += ` LIMIT $${q.params.length}`;
  }
  const { rows } = await db.query<MeasurementRow>('listMeasurements', sql, q.params);
  return rows.map(measurementFromRow);
}

export async function countMeasurements(db: PgDb, f: MeasurementFilter): Promise<number> {
  const q = where(f);
  const { rows } = await db.query<{ n: number }>('countMeasurements', `SELECT COUNT(*) AS n FROM measurements${q.sql}`, q.params);
  return rows[0]!.n;
}
