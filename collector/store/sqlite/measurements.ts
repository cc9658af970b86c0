import type { Database as SqliteDb, Statement } from 'better-sqlite3';
import type { Measurement } from '../../../protocol/index.ts';
import { isDisturbed } from '../job-rules.ts';
import type { MeasurementFilter } from '../types.ts';

// Measurements, the SQLite way: statements prepared once (filtered ones per filter shape); the
// backend runs them inside its transactions with validated arguments.

interface MeasurementRow {
  id: string;
  device_id: string;
  pass_id: string;
  level: 'op' | 'network';
  space: string | null;
  key: string;
  spec: string | null;
  batch: number;
  warmup: number;
  median_ms: number;
  mean_ms: number;
  p10_ms: number;
  p90_ms: number;
  stddev_ms: number;
  min_ms: number;
  cv: number;
  repeats: number;
  outliers: number;
  wall_ms: number;
  calibration_ms: number | null;
  created_at: string;
  job_id: string | null;
  anchor_ms: number | null;
  cold: string | null;
  quality: string | null;
  disturbed: 0 | 1;
}

const MEASUREMENT_COLUMNS = [
  'id', 'device_id', 'pass_id', 'level', 'space', 'key', 'spec', 'batch', 'warmup',
  'median_ms', 'mean_ms', 'p10_ms', 'p90_ms', 'stddev_ms', 'min_ms', 'cv', 'repeats', 'outliers',
  'wall_ms', 'calibration_ms', 'created_at', 'job_id', 'anchor_ms', 'cold', 'quality', 'disturbed',
] as const;

function measurementFromRow(row: MeasurementRow): Measurement {
  const m: Measurement = {
    id: row.id,
    deviceId: row.device_id,
    passId: row.pass_id,
    level: row.level,
    space: row.space,
    key: row.key,
    batch: row.batch,
    warmup: row.warmup,
    stats: {
      median: row.median_ms,
      mean: row.mean_ms,
      p10: row.p10_ms,
      p90: row.p90_ms,
      stddev: row.stddev_ms,
      min: row.min_ms,
      cv: row.cv,
      repeats: row.repeats,
      outliers: row.outliers,
    },
    wallMs: row.wall_ms,
    calibrationMs: row.calibration_ms,
    createdAt: row.created_at,
  };
  // SQL NULL means "no spec was sent": leave the key out rather than invent `spec: null`
  if (row.spec !== null) m.spec = JSON.parse(row.spec);
  // likewise no job (a local profile): the key stays absent
  if (row.job_id !== null) m.jobId = row.job_id;
  // and no anchor (op level, older agents)
  if (row.anchor_ms !== null) m.anchorMs = row.anchor_ms;
  // no cold figures or verdict: measured before they existed (read as clean)
  if (row.cold !== null) m.cold = JSON.parse(row.cold);
  if (row.quality !== null) m.quality = JSON.parse(row.quality);
  return m;
}

function measurementToRow(m: Measurement): MeasurementRow {
  return {
    id: m.id,
    device_id: m.deviceId,
    pass_id: m.passId,
    level: m.level,
    space: m.space,
    key: m.key,
    // checkedStore made sure these serialise
    spec: m.spec === undefined ? null : JSON.stringify(m.spec),
    batch: m.batch,
    warmup: m.warmup,
    median_ms: m.stats.median,
    mean_ms: m.stats.mean,
    p10_ms: m.stats.p10,
    p90_ms: m.stats.p90,
    stddev_ms: m.stats.stddev,
    min_ms: m.stats.min,
    cv: m.stats.cv,
    repeats: m.stats.repeats,
    outliers: m.stats.outliers,
    wall_ms: m.wallMs,
    calibration_ms: m.calibrationMs,
    created_at: m.createdAt,
    job_id: m.jobId ?? null,
    anchor_ms: m.anchorMs ?? null,
    cold: m.cold ? JSON.stringify(m.cold) : null,
    quality: m.quality ? JSON.stringify(m.quality) : null,
    disturbed: isDisturbed(m) ? 1 : 0,
  };
}

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
    return this.#stmts.insert.run(measurementToRow(m)).changes > 0;
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
