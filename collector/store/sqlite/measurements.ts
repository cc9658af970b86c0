import type { Database as SqliteDb, Statement } from 'better-sqlite3';
import type { Measurement } from '../../../protocol/index.ts';
import { MEASUREMENT_COLUMNS, measurementFromRow, measurementToRow, type MeasurementRow } from '../rows.ts';
import type { MeasurementFilter } from '../types.ts';

// Measurements, the SQLite way: statements prepared once (filtered ones per filter shape); the
// backend runs them inside its transactions with validated arguments.

export class MeasurementTable {
  readonly #db: SqliteDb;
  readonly #stmts: {
    insert: Statement;
    jobOf: Statement<[string], { job_id: string | null }>;
    recentDisturbed: Statement<[{ deviceId: string; limit: number }], number>;
  };
  /** filter shape → statement; a handful of shapes exist, so the cache stays tiny */
  readonly #filterStmts = new Map<string, Statement<[Record<string, unknown>], unknown>>();

  constructor(db: SqliteDb) {
    this.#db = db;
    this.#stmts = {
      // DO NOTHING on a known id: an agent re-sending its outbox after a reconnect must not fail
      // the batch, and the first copy stored is the one that was acknowledged.
      insert: db.prepare(
        `INSERT INTO measurements (${MEASUREMENT_COLUMNS.join(', ')})
         VALUES (${MEASUREMENT_COLUMNS.map((c) => `@${c}`).join(', ')})
         ON CONFLICT (id) DO NOTHING`,
      ),
      jobOf: db.prepare('SELECT job_id FROM measurements WHERE id = ?'),
      // rowid: insertion order
      recentDisturbed: db
        .prepare<[{ deviceId: string; limit: number }], number>('SELECT disturbed FROM measurements WHERE device_id = @deviceId ORDER BY rowid DESC LIMIT @limit')
        .pluck(),
    };
  }

  /** false when the id is stored already */
  insert(m: Measurement): boolean {
    const row = measurementToRow(m);
    return this.#stmts.insert.run({ ...row, disturbed: row.disturbed ? 1 : 0 }).changes > 0;
  }

  /** undefined when no measurement has this id, else its jobId (null: a measurement of no job) */
  jobOf(id: string): string | null | undefined {
    return this.#stmts.jobOf.get(id)?.job_id;
  }

  /** disturbed flags of the device's last `limit` measurements, newest first */
  recentDisturbed(deviceId: string, limit: number): boolean[] {
    return this.#stmts.recentDisturbed.all({ deviceId, limit }).map((d) => d === 1);
  }

  #statement(sql: string): Statement<[Record<string, unknown>], unknown> {
    let stmt = this.#filterStmts.get(sql);
    if (stmt === undefined) {
      stmt = this.#db.prepare<[Record<string, unknown>], unknown>(sql);
      this.#filterStmts.set(sql, stmt);
    }
    return stmt;
  }

  /** The statement text for this filter's shape and its named parameters. */
  #filtered(select: string, f: MeasurementFilter) {
    const where: string[] = [];
    const params: Record<string, unknown> = {};
    for (const field of ['deviceId', 'level', 'key'] as const) {
      if (f[field] === undefined) continue;
      where.push(`${field === 'deviceId' ? 'device_id' : field} = @${field}`);
      params[field] = f[field];
    }
    if (f.space === null) {
      where.push('space IS NULL');
    } else if (f.space !== undefined) {
      where.push('space = @space');
      params.space = f.space;
    }
    return { sql: `${select}${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''}`, params };
  }

  list(f: MeasurementFilter): Measurement[] {
    const q = this.#filtered(`SELECT ${MEASUREMENT_COLUMNS.join(', ')} FROM measurements`, f);
    let sql = `${q.sql} ORDER BY created_at, id`;
    if (f.limit !== undefined) {
      sql += ' LIMIT @limit';
      q.params.limit = f.limit;
    }
    return (this.#statement(sql).all(q.params) as MeasurementRow[]).map(measurementFromRow);
  }

  /** matching rows, not capped by `limit` */
  count(f: MeasurementFilter): number {
    const q = this.#filtered('SELECT COUNT(*) AS n FROM measurements', f);
    return (this.#statement(q.sql).get(q.params) as { n: number }).n;
  }
}
