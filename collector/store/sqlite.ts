import fs from 'node:fs';
import nodePath from 'node:path';
import Database from 'better-sqlite3';
import type { Database as SqliteDb, Statement } from 'better-sqlite3';
import { z } from 'zod';
import {
  DeviceProfileSchema,
  MeasurementLevelSchema,
  MeasurementSchema,
  PassSchema,
  type DeviceProfile,
  type Measurement,
  type Pass,
} from '../../protocol/index.ts';
import {
  StoreClosedError,
  StoreConflictError,
  StoreNotFoundError,
  StoreOpenError,
  StoreReferenceError,
  StoreValidationError,
} from './errors.ts';
import { appliedMigrations, migrate, type AppliedMigration } from './migrate.ts';
import { MIGRATIONS } from './migrations.ts';
import type {
  DeviceSummary,
  InsertResult,
  MeasurementFilter,
  OpenStoreOptions,
  PassFinish,
  Store,
} from './types.ts';

const MEMORY = ':memory:';
const DEFAULT_BUSY_TIMEOUT_MS = 5000;

const OpenStoreOptionsSchema = z.strictObject({
  path: z.string().min(1, 'must be a non-empty string'),
  busyTimeoutMs: z.number().int().min(0).optional(),
  migrations: z.array(z.any()).optional(),
});

const PassFinishSchema = z.strictObject({
  finishedAt: z.string().min(1),
  calibrationMs: PassSchema.shape.calibrationMs,
  calibrationTrace: PassSchema.shape.calibrationTrace,
});

const MeasurementFilterSchema = z
  .strictObject({
    deviceId: z.string().min(1).optional(),
    level: MeasurementLevelSchema.optional(),
    space: z.string().min(1).nullable().optional(),
    key: z.string().min(1).optional(),
    limit: z.number().int().positive().optional(),
  })
  .optional();

const IdSchema = z.string().min(1, 'must be a non-empty string');

/** `['stats', 'median']` → `.stats.median`; `[3, 'id']` → `[3].id` */
function formatIssuePath(path: readonly PropertyKey[]): string {
  return path.map((k) => (typeof k === 'number' ? `[${k}]` : `.${String(k)}`)).join('');
}

/**
 * Parses `value` with `schema`, throwing StoreValidationError whose argument is `argument` plus the
 * path of the first issue, so the message says exactly which field of which item is wrong.
 */
function validate<S extends z.ZodType>(schema: S, value: unknown, argument: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const [first, ...rest] = result.error.issues;
  const more = rest.length > 0 ? ` (and ${rest.length} more issue${rest.length > 1 ? 's' : ''})` : '';
  throw new StoreValidationError(argument + formatIssuePath(first?.path ?? []), `${first?.message ?? 'invalid'}${more}`);
}

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Checks the file's location before better-sqlite3 sees it: better-sqlite3 would create the file
 * (and WAL its -wal/-shm siblings) and its own errors ("unable to open database file") do not say
 * which part of the path is wrong.
 */
function checkLocation(file: string): void {
  const abs = nodePath.resolve(file);
  const dir = nodePath.dirname(abs);
  let dirStat: fs.Stats;
  try {
    dirStat = fs.statSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new StoreOpenError(file, `directory '${dir}' does not exist`, { cause: err });
    if (code === 'ENOTDIR') throw new StoreOpenError(file, `'${dir}' is not a directory (a part of the path is a file)`, { cause: err });
    throw new StoreOpenError(file, `directory '${dir}' is not accessible (${code ?? reasonOf(err)})`, { cause: err });
  }
  if (!dirStat.isDirectory()) throw new StoreOpenError(file, `'${dir}' is not a directory`);
  try {
    // WAL mode creates -wal and -shm files beside the database, so the directory must be writable
    // even when the database file itself already exists.
    fs.accessSync(dir, fs.constants.W_OK | fs.constants.X_OK);
  } catch (err) {
    throw new StoreOpenError(file, `directory '${dir}' is not writable`, { cause: err });
  }
  let fileStat: fs.Stats | undefined;
  try {
    fileStat = fs.statSync(abs);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new StoreOpenError(file, `cannot stat the file (${reasonOf(err)})`, { cause: err });
    }
  }
  if (fileStat !== undefined) {
    if (fileStat.isDirectory()) throw new StoreOpenError(file, 'it is a directory, not a file');
    try {
      fs.accessSync(abs, fs.constants.R_OK | fs.constants.W_OK);
    } catch (err) {
      throw new StoreOpenError(file, 'file is not readable and writable', { cause: err });
    }
  }
}

/** Sets the per-connection pragmas and checks that they took. */
function configure(db: SqliteDb, file: string, busyTimeoutMs: number): void {
  db.pragma(`busy_timeout = ${busyTimeoutMs}`);
  // WAL: readers (the HTTP API, LUT building) never block the one writer (results coming in).
  const mode = String(db.pragma('journal_mode = WAL', { simple: true }));
  if (file !== MEMORY && mode !== 'wal') {
    throw new StoreOpenError(file, `could not switch to WAL journal mode (got '${mode}'); network file systems do not support it`);
  }
  // NORMAL is safe from corruption in WAL mode and only risks the last commits on power loss (not
  // on a process crash), at a fraction of FULL's fsyncs per result batch.
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  if (db.pragma('foreign_keys', { simple: true }) !== 1) {
    throw new StoreOpenError(file, 'this SQLite build cannot enforce foreign keys');
  }
}

/**
 * Opens (creating if needed) the SQLite database at `path`, switches it to WAL mode and applies
 * the schema migrations it has not applied yet.
 *
 * Throws StoreOpenError naming the path and the reason when the directory is missing or not
 * writable or the file is not a database, and MigrationError when the schema cannot be brought up
 * to date (e.g. the file was written by newer code).
 *
 * @example
 * import { openStore } from './collector/index.ts';
 * const store = openStore({ path: '/tmp/hwlat-example.sqlite' });
 * console.log(store.journalMode()); // 'wal'
 * console.log(store.listDevices().length);
 * store.close();
 */
export function openStore(options: OpenStoreOptions): SqliteStore {
  const opts = validate(OpenStoreOptionsSchema, options, 'openStore options');
  const file = opts.path;
  const busyTimeoutMs = opts.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  if (file !== MEMORY) checkLocation(file);

  let db: SqliteDb;
  try {
    db = new Database(file, { timeout: busyTimeoutMs });
  } catch (err) {
    throw new StoreOpenError(file, reasonOf(err), { cause: err });
  }
  try {
    try {
      configure(db, file, busyTimeoutMs);
    } catch (err) {
      // 'file is not a database' surfaces here, at the first statement, not in the constructor
      throw err instanceof StoreOpenError ? err : new StoreOpenError(file, reasonOf(err), { cause: err });
    }
    const applied = migrate(db, options.migrations ?? MIGRATIONS, file);
    return new SqliteStore(db, file, applied);
  } catch (err) {
    db.close();
    throw err;
  }
}

interface DeviceRow {
  id: string;
  name: string;
  hardware: string;
  runtime: string;
}

interface PassRow {
  id: string;
  device_id: string;
  started_at: string;
  finished_at: string | null;
  calibration_key: string;
  calibration_ms: number | null;
  calibration_trace: string;
}

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
}

const MEASUREMENT_COLUMNS = [
  'id', 'device_id', 'pass_id', 'level', 'space', 'key', 'spec', 'batch', 'warmup',
  'median_ms', 'mean_ms', 'p10_ms', 'p90_ms', 'stddev_ms', 'min_ms', 'cv', 'repeats', 'outliers',
  'wall_ms', 'calibration_ms', 'created_at',
] as const;

function deviceFromRow(row: DeviceRow): DeviceProfile {
  return { id: row.id, name: row.name, hardware: JSON.parse(row.hardware), runtime: JSON.parse(row.runtime) };
}

function passFromRow(row: PassRow): Pass {
  return {
    id: row.id,
    deviceId: row.device_id,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    calibrationKey: row.calibration_key,
    calibrationMs: row.calibration_ms,
    calibrationTrace: JSON.parse(row.calibration_trace) as number[],
  };
}

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
  return m;
}

function specToJson(spec: unknown, argument: string): string | null {
  if (spec === undefined) return null;
  let text: string | undefined;
  try {
    text = JSON.stringify(spec);
  } catch (err) {
    throw new StoreValidationError(argument, `not JSON-serialisable (${reasonOf(err)})`);
  }
  if (text === undefined) throw new StoreValidationError(argument, `not JSON-serialisable (${typeof spec})`);
  return text;
}

function measurementToRow(m: Measurement, index: number): MeasurementRow {
  return {
    id: m.id,
    device_id: m.deviceId,
    pass_id: m.passId,
    level: m.level,
    space: m.space,
    key: m.key,
    spec: specToJson(m.spec, `measurements[${index}].spec`),
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
  };
}

function isForeignKeyError(err: unknown): boolean {
  return err instanceof Database.SqliteError && err.code === 'SQLITE_CONSTRAINT_FOREIGNKEY';
}

/**
 * The SQLite Store: one better-sqlite3 connection, statements prepared once. Create it with
 * openStore. Besides the Store interface it exposes SQLite-specific facts (journal mode, applied
 * migrations) for diagnostics and tests.
 */
export class SqliteStore implements Store {
  readonly #db: SqliteDb;
  #open = true;
  readonly #stmts: {
    upsertDevice: Statement;
    getDevice: Statement<[string], DeviceRow>;
    deviceExists: Statement<[string], number>;
    listDevices: Statement<[], DeviceRow & { measurements: number }>;
    insertPass: Statement;
    getPass: Statement<[string], PassRow>;
    finishPass: Statement;
    insertMeasurement: Statement;
  };
  /** filter shape → statement; a handful of shapes exist, so the cache stays tiny */
  readonly #filterStmts = new Map<string, Statement<[Record<string, unknown>], unknown>>();

  /** @param migrationsApplied versions applied by the openStore call that made this store */
  constructor(
    db: SqliteDb,
    readonly path: string,
    readonly migrationsApplied: readonly number[] = [],
  ) {
    this.#db = db;
    this.#stmts = {
      upsertDevice: db.prepare(
        `INSERT INTO devices (id, name, hardware, runtime, backend, provider, runtime_version, threads, created_at, updated_at)
         VALUES (@id, @name, @hardware, @runtime, @backend, @provider, @runtimeVersion, @threads, @now, @now)
         ON CONFLICT (id) DO UPDATE SET
           name = excluded.name, hardware = excluded.hardware, runtime = excluded.runtime,
           backend = excluded.backend, provider = excluded.provider,
           runtime_version = excluded.runtime_version, threads = excluded.threads,
           updated_at = excluded.updated_at`,
      ),
      getDevice: db.prepare('SELECT id, name, hardware, runtime FROM devices WHERE id = ?'),
      deviceExists: db.prepare<[string], number>('SELECT 1 FROM devices WHERE id = ?').pluck(),
      listDevices: db.prepare(
        `SELECT d.id, d.name, d.hardware, d.runtime,
                (SELECT COUNT(*) FROM measurements m WHERE m.device_id = d.id) AS measurements
         FROM devices d ORDER BY d.created_at, d.id`,
      ),
      insertPass: db.prepare(
        `INSERT INTO passes (id, device_id, started_at, finished_at, calibration_key, calibration_ms, calibration_trace)
         VALUES (@id, @deviceId, @startedAt, @finishedAt, @calibrationKey, @calibrationMs, @calibrationTrace)`,
      ),
      getPass: db.prepare('SELECT * FROM passes WHERE id = ?'),
      finishPass: db.prepare(
        `UPDATE passes SET finished_at = @finishedAt, calibration_ms = @calibrationMs, calibration_trace = @calibrationTrace
         WHERE id = @id`,
      ),
      // DO NOTHING on a known id: an agent re-sending its outbox after a reconnect must not fail
      // the batch, and the first copy stored is the one that was acknowledged.
      insertMeasurement: db.prepare(
        `INSERT INTO measurements (${MEASUREMENT_COLUMNS.join(', ')})
         VALUES (${MEASUREMENT_COLUMNS.map((c) => `@${c}`).join(', ')})
         ON CONFLICT (id) DO NOTHING`,
      ),
    };
  }

  #live(method: string): SqliteDb {
    if (!this.#open) throw new StoreClosedError(this.path, method);
    return this.#db;
  }

  upsertDevice(profile: DeviceProfile): void {
    this.#live('upsertDevice');
    const p = validate(DeviceProfileSchema, profile, 'profile');
    this.#stmts.upsertDevice.run({
      id: p.id,
      name: p.name,
      hardware: JSON.stringify(p.hardware),
      runtime: JSON.stringify(p.runtime),
      backend: p.runtime.backend,
      provider: p.runtime.provider,
      runtimeVersion: p.runtime.version,
      threads: p.runtime.threads,
      now: new Date().toISOString(),
    });
  }

  getDevice(id: string): DeviceProfile | undefined {
    this.#live('getDevice');
    const row = this.#stmts.getDevice.get(validate(IdSchema, id, 'id'));
    return row === undefined ? undefined : deviceFromRow(row);
  }

  listDevices(): DeviceSummary[] {
    this.#live('listDevices');
    return this.#stmts.listDevices.all().map((row) => ({ ...deviceFromRow(row), measurements: row.measurements }));
  }

  startPass(pass: Pass): void {
    const db = this.#live('startPass');
    const p = validate(PassSchema, pass, 'pass');
    // IMMEDIATE: the existence checks and the insert must see the same database, and taking the
    // write lock up front avoids SQLITE_BUSY when upgrading a read transaction to a write.
    db.transaction(() => {
      if (this.#stmts.deviceExists.get(p.deviceId) === undefined) {
        throw new StoreReferenceError('pass.deviceId', `unknown device '${p.deviceId}'; upsertDevice it first`);
      }
      const existing = this.#stmts.getPass.get(p.id);
      if (existing !== undefined) {
        const diffs: string[] = [];
        if (existing.device_id !== p.deviceId) diffs.push(`deviceId '${existing.device_id}' ≠ '${p.deviceId}'`);
        if (existing.started_at !== p.startedAt) diffs.push(`startedAt '${existing.started_at}' ≠ '${p.startedAt}'`);
        if (existing.calibration_key !== p.calibrationKey) {
          diffs.push(`calibrationKey '${existing.calibration_key}' ≠ '${p.calibrationKey}'`);
        }
        if (diffs.length > 0) throw new StoreConflictError('pass', p.id, `stored ${diffs.join(', ')}`);
        return; // the same pass re-sent after a reconnect
      }
      this.#stmts.insertPass.run({ ...p, calibrationTrace: JSON.stringify(p.calibrationTrace) });
    }).immediate();
  }

  finishPass(id: string, finish: PassFinish): void {
    this.#live('finishPass');
    const passId = validate(IdSchema, id, 'id');
    const f = validate(PassFinishSchema, finish, 'finish');
    const res = this.#stmts.finishPass.run({ ...f, id: passId, calibrationTrace: JSON.stringify(f.calibrationTrace) });
    if (res.changes === 0) throw new StoreNotFoundError('pass', passId, 'finishPass');
  }

  getPass(id: string): Pass | undefined {
    this.#live('getPass');
    const row = this.#stmts.getPass.get(validate(IdSchema, id, 'id'));
    return row === undefined ? undefined : passFromRow(row);
  }

  insertMeasurements(measurements: Measurement[]): InsertResult {
    const db = this.#live('insertMeasurements');
    if (!Array.isArray(measurements)) {
      throw new StoreValidationError('measurements', `must be an array, got ${measurements === null ? 'null' : typeof measurements}`);
    }
    // Validate everything before the transaction: one bad result must not leave half a batch.
    const rows = measurements.map((m, i) => measurementToRow(validate(MeasurementSchema, m, `measurements[${i}]`), i));
    if (rows.length === 0) return { inserted: 0, duplicates: 0 };

    const write = db.transaction((): number => {
      this.#checkReferences(rows);
      let inserted = 0;
      for (const row of rows) inserted += this.#stmts.insertMeasurement.run(row).changes;
      return inserted;
    });
    let inserted: number;
    try {
      inserted = write.immediate();
    } catch (err) {
      // #checkReferences names the culprit; this is the backstop should the two ever disagree
      if (isForeignKeyError(err)) {
        throw new StoreReferenceError('measurements', `a device or pass they refer to does not exist (${reasonOf(err)})`);
      }
      throw err;
    }
    return { inserted, duplicates: rows.length - inserted };
  }

  /** Throws StoreReferenceError naming the first measurement whose device or pass is unknown. */
  #checkReferences(rows: readonly MeasurementRow[]): void {
    const devices = new Map<string, boolean>();
    const passDevice = new Map<string, string | null>();
    rows.forEach((row, i) => {
      let known = devices.get(row.device_id);
      if (known === undefined) {
        known = this.#stmts.deviceExists.get(row.device_id) !== undefined;
        devices.set(row.device_id, known);
      }
      if (!known) {
        throw new StoreReferenceError(`measurements[${i}].deviceId`, `unknown device '${row.device_id}'; upsertDevice it first`);
      }
      let owner = passDevice.get(row.pass_id);
      if (owner === undefined) {
        owner = this.#stmts.getPass.get(row.pass_id)?.device_id ?? null;
        passDevice.set(row.pass_id, owner);
      }
      if (owner === null) {
        throw new StoreReferenceError(`measurements[${i}].passId`, `unknown pass '${row.pass_id}'; startPass it first`);
      }
      if (owner !== row.device_id) {
        throw new StoreReferenceError(
          `measurements[${i}].passId`,
          `pass '${row.pass_id}' belongs to device '${owner}', not '${row.device_id}'`,
        );
      }
    });
  }

  /** Builds (or reuses) the statement for this filter's shape and its named parameters. */
  #filtered(select: string, filter: MeasurementFilter | undefined, argument: string) {
    const f = validate(MeasurementFilterSchema, filter, argument) ?? {};
    const where: string[] = [];
    const params: Record<string, unknown> = {};
    if (f.deviceId !== undefined) {
      where.push('device_id = @deviceId');
      params.deviceId = f.deviceId;
    }
    if (f.level !== undefined) {
      where.push('level = @level');
      params.level = f.level;
    }
    if (f.space === null) {
      where.push('space IS NULL');
    } else if (f.space !== undefined) {
      where.push('space = @space');
      params.space = f.space;
    }
    if (f.key !== undefined) {
      where.push('key = @key');
      params.key = f.key;
    }
    const sql = `${select}${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''}`;
    return { sql, params, limit: f.limit };
  }

  #statement(sql: string): Statement<[Record<string, unknown>], unknown> {
    let stmt = this.#filterStmts.get(sql);
    if (stmt === undefined) {
      stmt = this.#db.prepare<[Record<string, unknown>], unknown>(sql);
      this.#filterStmts.set(sql, stmt);
    }
    return stmt;
  }

  listMeasurements(filter?: MeasurementFilter): Measurement[] {
    this.#live('listMeasurements');
    const q = this.#filtered(`SELECT ${MEASUREMENT_COLUMNS.join(', ')} FROM measurements`, filter, 'filter');
    let sql = `${q.sql} ORDER BY created_at, id`;
    if (q.limit !== undefined) {
      sql += ' LIMIT @limit';
      q.params.limit = q.limit;
    }
    return (this.#statement(sql).all(q.params) as MeasurementRow[]).map(measurementFromRow);
  }

  countMeasurements(filter?: MeasurementFilter): number {
    this.#live('countMeasurements');
    const q = this.#filtered('SELECT COUNT(*) AS n FROM measurements', filter, 'filter');
    const { n } = this.#statement(q.sql).get(q.params) as { n: number };
    return q.limit === undefined ? n : Math.min(n, q.limit);
  }

  /** 'wal' for a file database ('memory' for ':memory:'). */
  journalMode(): string {
    return String(this.#live('journalMode').pragma('journal_mode', { simple: true }));
  }

  /** The highest migration version the database has applied. */
  schemaVersion(): number {
    const applied = this.appliedMigrations();
    return applied.length === 0 ? 0 : applied[applied.length - 1]!.version;
  }

  /** Every migration the database has applied, with when. */
  appliedMigrations(): AppliedMigration[] {
    return appliedMigrations(this.#live('appliedMigrations'));
  }

  close(): void {
    if (!this.#open) return;
    this.#open = false;
    try {
      // SQLite's advice for long-lived connections: refresh planner statistics on close
      this.#db.pragma('optimize');
    } catch {
      // best effort: a failed optimisation must not keep the file open
    }
    this.#db.close();
  }
}
