import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import nodePath from 'node:path';
import Database from 'better-sqlite3';
import type { Database as SqliteDb, Statement } from 'better-sqlite3';
import { z } from 'zod';
import {
  CampaignRequestSchema,
  DeviceProfileSchema,
  JobTaskSchema,
  KernelProfileSchema,
  MAX_JOB_ERROR_CHARS,
  MeasurementLevelSchema,
  MeasurementSchema,
  PassSchema,
  type Campaign,
  type CampaignProgress,
  type CampaignRequest,
  type DeviceProfile,
  type Job,
  type JobTask,
  type KernelProfileRecord,
  type Measurement,
  type MeasureSettings,
  type Pass,
} from '../../protocol/index.ts';
import {
  StoreClosedError,
  StoreConflictError,
  StoreJobStateError,
  StoreNotFoundError,
  StoreOpenError,
  StoreReferenceError,
  StoreValidationError,
} from './errors.ts';
import { KernelProfileTable } from './kernel-profiles.ts';
import { guardUnavailable } from './unavailable.ts';
import { appliedMigrations, migrate, type AppliedMigration } from './migrate.ts';
import { MIGRATIONS } from './migrations.ts';
import type {
  CampaignInput,
  CompleteJobInput,
  CompleteOutcome,
  DeviceSummary,
  ExtendLeasesOptions,
  FailJobInput,
  FailOutcome,
  InsertResult,
  JobFilter,
  JobRecord,
  JobStatus,
  KernelProfileFilter,
  LeaseGrant,
  LeaseOptions,
  MeasurementFilter,
  OpenStoreOptions,
  PassFinish,
  ReleaseLeasesOptions,
  Store,
  StoredTimedKernel,
  TimedKernelFilter,
} from './types.ts';
import { DISTURBED_RETRY_MS, MAX_DISTURBED_REQUEUES, MAX_JOB_FAILURES, PERSISTENT_DISTURBED_SHARE, PERSISTENT_WINDOW } from './types.ts';

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

/** Lease clocks and expiries: epoch milliseconds, as Date.now() gives them. */
const EpochMsSchema = z.number().int('must be an integer (epoch ms)').min(0);

/** As stored, plus 'failed': queued jobs given up after MAX_JOB_FAILURES (see JobFilter). */
const JobFilterStatusSchema = z.enum(['queued', 'leased', 'done', 'failed']);

/** More than this many ids in one heartbeat or release is a caller bug, not a fleet. */
const MAX_LEASE_IDS = 10_000;
const LeaseIdsSchema = z.array(IdSchema).max(MAX_LEASE_IDS).optional();

const CampaignInputSchema = z.strictObject({
  id: IdSchema.max(200, 'must be at most 200 characters'),
  // campaigns are leased oldest first by this text, so it must sort like time: UTC ISO only
  createdAt: z.iso.datetime('must be an ISO timestamp in UTC, e.g. 2025-01-01T00:00:00.000Z'),
  request: CampaignRequestSchema,
  tasks: z.array(JobTaskSchema).min(1, 'a campaign needs at least one task'),
});

const LeaseOptionsSchema = z.strictObject({
  deviceId: IdSchema,
  agentId: IdSchema,
  max: z.number().int().min(1).max(10_000),
  ttlMs: z.number().int().positive(),
  now: EpochMsSchema,
});

const ExtendLeasesOptionsSchema = z.strictObject({
  agentId: IdSchema,
  leaseIds: LeaseIdsSchema,
  expiresAt: EpochMsSchema,
  now: EpochMsSchema,
});

const ReleaseLeasesOptionsSchema = z.strictObject({ agentId: IdSchema, leaseIds: LeaseIdsSchema });

/** The measurement is validated on its own, so its errors read `measurement.stats.median`. */
const CompleteJobInputSchema = z.strictObject({
  jobId: IdSchema,
  deviceId: IdSchema,
  measurement: z.unknown(),
  kernels: z.unknown().optional(),
  now: EpochMsSchema.optional(),
});

const FailJobInputSchema = z.strictObject({
  jobId: IdSchema,
  deviceId: IdSchema,
  agentId: IdSchema,
  error: z.string().min(1, 'must be a non-empty string').max(MAX_JOB_ERROR_CHARS, `must be at most ${MAX_JOB_ERROR_CHARS} characters`),
});

const JobFilterSchema = z
  .strictObject({
    campaignId: z.string().min(1).optional(),
    deviceId: z.string().min(1).optional(),
    status: JobFilterStatusSchema.optional(),
    limit: z.number().int().positive().optional(),
  })
  .optional();

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

interface CampaignRow {
  id: string;
  created_at: string;
  request: string;
  all_devices: 0 | 1;
  tasks: number;
}

interface JobRow {
  id: string;
  campaign_id: string;
  task_idx: number;
  device_id: string;
  status: JobStatus;
  lease_id: string | null;
  lease_owner: string | null;
  lease_expires_at: number | null;
  attempts: number;
  result_id: string | null;
  done_at: number | null;
  created_at: string;
  failures: number;
  last_error: string | null;
  disturbed: number;
  not_before: number | null;
}

/** A job row with its task and its campaign's request, enough to build the Job an agent gets. */
type JobDetailRow = JobRow & { payload: string; request: string };

interface TaskRow {
  level: 'op' | 'network';
  space: string | null;
  key: string;
}

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
  // likewise no job (a local profile): the key stays absent
  if (row.job_id !== null) m.jobId = row.job_id;
  // and no anchor (op level, older agents)
  if (row.anchor_ms !== null) m.anchorMs = row.anchor_ms;
  // no cold figures or verdict: measured before they existed (read as clean)
  if (row.cold !== null) m.cold = JSON.parse(row.cold);
  if (row.quality !== null) m.quality = JSON.parse(row.quality);
  return m;
}

/** JSON text of a value the caller sent; StoreValidationError naming `argument` if it has none. */
function toJson(value: unknown, argument: string): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    throw new StoreValidationError(argument, `not JSON-serialisable (${reasonOf(err)})`);
  }
  if (text === undefined) throw new StoreValidationError(argument, `not JSON-serialisable (${typeof value})`);
  return text;
}

function specToJson(spec: unknown, argument: string): string | null {
  return spec === undefined ? null : toJson(spec, argument);
}

/** @param argument how errors name this measurement, e.g. `measurements[3]` */
function measurementToRow(m: Measurement, argument: string): MeasurementRow {
  return {
    id: m.id,
    device_id: m.deviceId,
    pass_id: m.passId,
    level: m.level,
    space: m.space,
    key: m.key,
    spec: specToJson(m.spec, `${argument}.spec`),
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
    cold: m.cold ? toJson(m.cold, `${argument}.cold`) : null,
    quality: m.quality ? toJson(m.quality, `${argument}.quality`) : null,
    disturbed: m.quality?.verdict === 'disturbed' ? 1 : 0,
  };
}

function campaignFromRow(row: CampaignRow): Campaign {
  return { id: row.id, createdAt: row.created_at, request: JSON.parse(row.request) as CampaignRequest, tasks: row.tasks };
}

function settingsOf(request: string): MeasureSettings {
  return (JSON.parse(request) as CampaignRequest).settings;
}

function jobFromRow(row: JobDetailRow): JobRecord {
  return {
    id: row.id,
    campaignId: row.campaign_id,
    task: JSON.parse(row.payload) as JobTask,
    settings: settingsOf(row.request),
    deviceId: row.device_id,
    taskIdx: row.task_idx,
    status: row.status,
    attempts: row.attempts,
    failures: row.failures,
    lastError: row.last_error,
    leaseId: row.lease_id,
    leaseOwner: row.lease_owner,
    leaseExpiresAt: row.lease_expires_at,
    resultId: row.result_id,
    doneAt: row.done_at,
    createdAt: row.created_at,
  };
}

/** `'a', 'b'` for error messages */
function quoteList(items: readonly string[]): string {
  return items.map((x) => `'${x}'`).join(', ');
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
    measurementJob: Statement<[string], { job_id: string | null }>;
    insertCampaign: Statement;
    getCampaign: Statement<[string], CampaignRow>;
    listCampaigns: Statement<[], CampaignRow>;
    insertTask: Statement;
    taskPayloads: Statement<[string], string>;
    getTask: Statement<[string, number], TaskRow>;
    insertCampaignDevice: Statement;
    jobsForCampaign: Statement<[{ campaignId: string; now: string }]>;
    campaignsMissingJobs: Statement<[{ deviceId: string }], string>;
    jobsForDevice: Statement<[{ deviceId: string; campaignId: string; now: string }]>;
    progress: Statement<[{ campaignId: string; now: number }], CampaignProgress>;
    getJob: Statement<[string], JobDetailRow>;
    jobState: Statement<[string], Pick<JobRow, 'device_id' | 'status' | 'attempts' | 'campaign_id' | 'task_idx' | 'lease_owner' | 'failures' | 'disturbed'>>;
    expireLeases: Statement<[number]>;
    campaignsWithQueued: Statement<[{ deviceId: string; now: number }], { id: string; request: string }>;
    queuedJobs: Statement<[{ deviceId: string; campaignId: string; limit: number; now: number }], { id: string; payload: string }>;
    markDisturbed: Statement<[{ id: string; notBefore: number }]>;
    recentDisturbed: Statement<[{ deviceId: string; limit: number }], { disturbed: number }>;
    leaseJob: Statement<[{ id: string; leaseId: string; agentId: string; expiresAt: number }]>;
    extendAll: Statement<[{ agentId: string; expiresAt: number; now: number }]>;
    extendSome: Statement<[{ agentId: string; expiresAt: number; now: number; leaseIds: string }]>;
    releaseAll: Statement<[{ agentId: string }]>;
    releaseSome: Statement<[{ agentId: string; leaseIds: string }]>;
    markDone: Statement<[{ id: string; resultId: string; now: number }]>;
    markFailed: Statement<[{ id: string; agentId: string; error: string }]>;
  };
  /** kernel profiles and their timed kernels (migration 6) */
  readonly #kernels: KernelProfileTable;
  /** filter shape → statement; a handful of shapes exist, so the cache stays tiny */
  readonly #filterStmts = new Map<string, Statement<[Record<string, unknown>], unknown>>();

  /** @param migrationsApplied versions applied by the openStore call that made this store */
  constructor(
    db: SqliteDb,
    readonly path: string,
    readonly migrationsApplied: readonly number[] = [],
  ) {
    this.#db = db;
    this.#kernels = new KernelProfileTable(db);
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
      measurementJob: db.prepare('SELECT job_id FROM measurements WHERE id = ?'),
      insertCampaign: db.prepare(
        `INSERT INTO campaigns (id, created_at, request, all_devices, tasks)
         VALUES (@id, @createdAt, @request, @allDevices, @tasks)`,
      ),
      getCampaign: db.prepare('SELECT id, created_at, request, all_devices, tasks FROM campaigns WHERE id = ?'),
      listCampaigns: db.prepare(
        'SELECT id, created_at, request, all_devices, tasks FROM campaigns ORDER BY created_at DESC, id DESC',
      ),
      insertTask: db.prepare(
        `INSERT INTO campaign_tasks (campaign_id, idx, level, space, key, payload)
         VALUES (@campaignId, @idx, @level, @space, @key, @payload)`,
      ),
      taskPayloads: db.prepare<[string], string>('SELECT payload FROM campaign_tasks WHERE campaign_id = ? ORDER BY idx').pluck(),
      getTask: db.prepare('SELECT level, space, key FROM campaign_tasks WHERE campaign_id = ? AND idx = ?'),
      insertCampaignDevice: db.prepare('INSERT INTO campaign_devices (campaign_id, device_id) VALUES (?, ?)'),
      // Job ids read `campaign:device:idx`; device ids and indexes hold no ':', so ids never collide.
      // DO NOTHING: materialising again (a device's second hello) keeps the jobs and their state.
      jobsForCampaign: db.prepare(
        `INSERT INTO jobs (id, campaign_id, task_idx, device_id, created_at)
         SELECT t.campaign_id || ':' || d.id || ':' || t.idx, t.campaign_id, t.idx, d.id, @now
         FROM campaigns c JOIN campaign_tasks t ON t.campaign_id = c.id CROSS JOIN devices d
         WHERE c.id = @campaignId
           AND (c.all_devices = 1 OR EXISTS (
             SELECT 1 FROM campaign_devices cd WHERE cd.campaign_id = c.id AND cd.device_id = d.id))
         ON CONFLICT DO NOTHING`,
      ),
      // Campaigns whose jobs the device already has in full are skipped (its jobs counted on the
      // (device_id, status, campaign_id) index), so a device's every hello does not probe every
      // task of every campaign again.
      campaignsMissingJobs: db.prepare<[{ deviceId: string }], string>(
        `SELECT c.id FROM campaigns c
         WHERE (c.all_devices = 1 OR EXISTS (
             SELECT 1 FROM campaign_devices cd WHERE cd.campaign_id = c.id AND cd.device_id = @deviceId))
           AND (SELECT COUNT(*) FROM jobs j
                WHERE j.device_id = @deviceId AND j.status IN ('queued', 'leased', 'done') AND j.campaign_id = c.id) < c.tasks`,
      ).pluck(),
      jobsForDevice: db.prepare(
        `INSERT INTO jobs (id, campaign_id, task_idx, device_id, created_at)
         SELECT t.campaign_id || ':' || @deviceId || ':' || t.idx, t.campaign_id, t.idx, @deviceId, @now
         FROM campaign_tasks t WHERE t.campaign_id = @campaignId
         ON CONFLICT DO NOTHING`,
      ),
      // queued + leased + done + failed = total: a job given up is 'queued' as stored but counts
      // as failed, and only queued jobs can be given up (failJob queues the job as it counts).
      progress: db.prepare(
        `SELECT device_id AS deviceId,
                COUNT(*) AS total,
                SUM((status = 'queued' AND failures < ${MAX_JOB_FAILURES}) OR (status = 'leased' AND lease_expires_at <= @now)) AS queued,
                SUM(status = 'leased' AND lease_expires_at > @now) AS leased,
                SUM(status = 'done') AS done,
                SUM(status = 'queued' AND failures >= ${MAX_JOB_FAILURES}) AS failed
         FROM jobs WHERE campaign_id = @campaignId GROUP BY device_id ORDER BY device_id`,
      ),
      getJob: db.prepare(
        `SELECT j.*, t.payload, c.request
         FROM jobs j
         JOIN campaign_tasks t ON t.campaign_id = j.campaign_id AND t.idx = j.task_idx
         JOIN campaigns c ON c.id = j.campaign_id
         WHERE j.id = ?`,
      ),
      jobState: db.prepare('SELECT device_id, status, attempts, campaign_id, task_idx, lease_owner, failures, disturbed FROM jobs WHERE id = ?'),
      // a lease is valid while now < expiresAt
      expireLeases: db.prepare(
        `UPDATE jobs SET status = 'queued', lease_id = NULL, lease_owner = NULL, lease_expires_at = NULL
         WHERE status = 'leased' AND lease_expires_at <= ?`,
      ),
      // Jobs that failed MAX_JOB_FAILURES times are given up: never leased again. The limit is a
      // code constant, so it is part of the SQL text rather than a parameter every call repeats.
      // jobs queued again after a disturbed result wait until their not_before
      campaignsWithQueued: db.prepare(
        `SELECT c.id, c.request FROM campaigns c
         WHERE EXISTS (SELECT 1 FROM jobs j WHERE j.device_id = @deviceId AND j.status = 'queued' AND j.campaign_id = c.id
                         AND j.failures < ${MAX_JOB_FAILURES} AND (j.not_before IS NULL OR j.not_before <= @now))
         ORDER BY c.created_at, c.id`,
      ),
      queuedJobs: db.prepare(
        `SELECT j.id, t.payload
         FROM jobs j JOIN campaign_tasks t ON t.campaign_id = j.campaign_id AND t.idx = j.task_idx
         WHERE j.device_id = @deviceId AND j.status = 'queued' AND j.campaign_id = @campaignId
           AND j.failures < ${MAX_JOB_FAILURES} AND (j.not_before IS NULL OR j.not_before <= @now)
         ORDER BY j.task_idx LIMIT @limit`,
      ),
      recentDisturbed: db.prepare(`SELECT disturbed FROM measurements WHERE device_id = @deviceId ORDER BY rowid DESC LIMIT @limit`),
      markDisturbed: db.prepare(
        `UPDATE jobs SET status = 'queued', lease_id = NULL, lease_owner = NULL, lease_expires_at = NULL,
                disturbed = disturbed + 1, not_before = @notBefore
         WHERE id = @id AND status <> 'done'`,
      ),
      leaseJob: db.prepare(
        `UPDATE jobs SET status = 'leased', lease_id = @leaseId, lease_owner = @agentId,
                lease_expires_at = @expiresAt, attempts = attempts + 1
         WHERE id = @id AND status = 'queued'`,
      ),
      // MAX: a heartbeat never shortens a lease
      extendAll: db.prepare(
        `UPDATE jobs SET lease_expires_at = MAX(lease_expires_at, @expiresAt)
         WHERE lease_owner = @agentId AND status = 'leased' AND lease_expires_at > @now`,
      ),
      extendSome: db.prepare(
        `UPDATE jobs SET lease_expires_at = MAX(lease_expires_at, @expiresAt)
         WHERE lease_owner = @agentId AND status = 'leased' AND lease_expires_at > @now
           AND lease_id IN (SELECT value FROM json_each(@leaseIds))`,
      ),
      releaseAll: db.prepare(
        `UPDATE jobs SET status = 'queued', lease_id = NULL, lease_owner = NULL, lease_expires_at = NULL
         WHERE lease_owner = @agentId AND status = 'leased'`,
      ),
      releaseSome: db.prepare(
        `UPDATE jobs SET status = 'queued', lease_id = NULL, lease_owner = NULL, lease_expires_at = NULL
         WHERE lease_owner = @agentId AND status = 'leased' AND lease_id IN (SELECT value FROM json_each(@leaseIds))`,
      ),
      markDone: db.prepare(
        `UPDATE jobs SET status = 'done', result_id = @resultId, done_at = @now,
                lease_id = NULL, lease_owner = NULL, lease_expires_at = NULL
         WHERE id = @id AND status <> 'done'`,
      ),
      markFailed: db.prepare(
        `UPDATE jobs SET status = 'queued', lease_id = NULL, lease_owner = NULL, lease_expires_at = NULL,
                failures = failures + 1, last_error = @error
         WHERE id = @id AND status = 'leased' AND lease_owner = @agentId`,
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
    const rows = measurements.map((m, i) => {
      const valid = validate(MeasurementSchema, m, `measurements[${i}]`);
      if (valid.jobId != null) {
        throw new StoreValidationError(
          `measurements[${i}].jobId`,
          `the result of job '${valid.jobId}' must be stored with completeJob, which also marks the job done`,
        );
      }
      return measurementToRow(valid, `measurements[${i}]`);
    });
    if (rows.length === 0) return { inserted: 0, duplicates: 0 };

    const write = db.transaction((): number => {
      this.#checkReferences(rows, (i) => `measurements[${i}]`);
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

  /**
   * Throws StoreReferenceError naming the first measurement whose device or pass is unknown.
   * @param label how errors name the i-th row, e.g. `measurements[3]`
   */
  #checkReferences(rows: readonly MeasurementRow[], label: (i: number) => string): void {
    const devices = new Map<string, boolean>();
    const passDevice = new Map<string, string | null>();
    rows.forEach((row, i) => {
      let known = devices.get(row.device_id);
      if (known === undefined) {
        known = this.#stmts.deviceExists.get(row.device_id) !== undefined;
        devices.set(row.device_id, known);
      }
      if (!known) {
        throw new StoreReferenceError(`${label(i)}.deviceId`, `unknown device '${row.device_id}'; upsertDevice it first`);
      }
      let owner = passDevice.get(row.pass_id);
      if (owner === undefined) {
        owner = this.#stmts.getPass.get(row.pass_id)?.device_id ?? null;
        passDevice.set(row.pass_id, owner);
      }
      if (owner === null) {
        throw new StoreReferenceError(`${label(i)}.passId`, `unknown pass '${row.pass_id}'; startPass it first`);
      }
      if (owner !== row.device_id) {
        throw new StoreReferenceError(
          `${label(i)}.passId`,
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

  createCampaign(input: CampaignInput): Campaign {
    const db = this.#live('createCampaign');
    const c = validate(CampaignInputSchema, input, 'campaign');
    const request = toJson(c.request, 'campaign.request');
    const seen = new Map<string, number>();
    const payloads = c.tasks.map((task, i) => {
      const identity = JSON.stringify([task.level, task.space, task.key]);
      const first = seen.get(identity);
      if (first !== undefined) {
        throw new StoreValidationError(
          `campaign.tasks[${i}]`,
          `repeats tasks[${first}] (${task.level} '${task.key}'); each task is measured once per device`,
        );
      }
      seen.set(identity, i);
      return toJson(task, `campaign.tasks[${i}]`);
    });
    const listed = c.request.devices === 'all' ? null : [...new Set(c.request.devices)];

    return db.transaction((): Campaign => {
      const existing = this.#stmts.getCampaign.get(c.id);
      if (existing !== undefined) {
        const diffs: string[] = [];
        if (existing.created_at !== c.createdAt) diffs.push(`createdAt '${existing.created_at}' ≠ '${c.createdAt}'`);
        if (existing.request !== request) diffs.push('a different request');
        const stored = this.#stmts.taskPayloads.all(c.id);
        if (stored.length !== payloads.length || stored.some((p, i) => p !== payloads[i])) diffs.push('different tasks');
        if (diffs.length > 0) throw new StoreConflictError('campaign', c.id, `stored with ${diffs.join(', ')}`);
        return campaignFromRow(existing); // the same campaign posted again
      }
      if (listed !== null) {
        const unknown = listed.filter((id) => this.#stmts.deviceExists.get(id) === undefined);
        if (unknown.length > 0) {
          throw new StoreReferenceError(
            'campaign.request.devices',
            `unknown device${unknown.length > 1 ? 's' : ''} ${quoteList(unknown)}; a campaign can list only devices that have registered`,
          );
        }
      }
      this.#stmts.insertCampaign.run({
        id: c.id,
        createdAt: c.createdAt,
        request,
        allDevices: listed === null ? 1 : 0,
        tasks: c.tasks.length,
      });
      c.tasks.forEach((task, idx) => {
        this.#stmts.insertTask.run({ campaignId: c.id, idx, level: task.level, space: task.space, key: task.key, payload: payloads[idx] });
      });
      for (const deviceId of listed ?? []) this.#stmts.insertCampaignDevice.run(c.id, deviceId);
      this.#stmts.jobsForCampaign.run({ campaignId: c.id, now: new Date().toISOString() });
      return { id: c.id, createdAt: c.createdAt, request: c.request, tasks: c.tasks.length };
    }).immediate();
  }

  getCampaign(id: string): Campaign | undefined {
    this.#live('getCampaign');
    const row = this.#stmts.getCampaign.get(validate(IdSchema, id, 'id'));
    return row === undefined ? undefined : campaignFromRow(row);
  }

  listCampaigns(): Campaign[] {
    this.#live('listCampaigns');
    return this.#stmts.listCampaigns.all().map(campaignFromRow);
  }

  campaignProgress(id: string, now?: number): CampaignProgress[] {
    const db = this.#live('campaignProgress');
    const campaignId = validate(IdSchema, id, 'id');
    const at = validate(EpochMsSchema.optional(), now, 'now') ?? Date.now();
    // one read transaction: the existence check and the counts see the same snapshot
    return db.transaction((): CampaignProgress[] => {
      if (this.#stmts.getCampaign.get(campaignId) === undefined) {
        throw new StoreNotFoundError('campaign', campaignId, 'campaignProgress');
      }
      return this.#stmts.progress.all({ campaignId, now: at });
    }).deferred();
  }

  ensureJobsForDevice(deviceId: string): number {
    const db = this.#live('ensureJobsForDevice');
    const id = validate(IdSchema, deviceId, 'deviceId');
    return db.transaction((): number => {
      if (this.#stmts.deviceExists.get(id) === undefined) {
        throw new StoreReferenceError('deviceId', `unknown device '${id}'; upsertDevice it first`);
      }
      const now = new Date().toISOString();
      let created = 0;
      for (const campaignId of this.#stmts.campaignsMissingJobs.all({ deviceId: id })) {
        created += this.#stmts.jobsForDevice.run({ deviceId: id, campaignId, now }).changes;
      }
      return created;
    }).immediate();
  }

  leaseJobs(options: LeaseOptions): LeaseGrant {
    const db = this.#live('leaseJobs');
    const o = validate(LeaseOptionsSchema, options, 'options');
    // IMMEDIATE: choosing the queued jobs and marking them leased must be one step for every
    // writer, or two collectors on the same file could lease a job twice.
    return db.transaction((): LeaseGrant => {
      this.#stmts.expireLeases.run(o.now);
      const leaseId = randomUUID();
      const expiresAt = o.now + o.ttlMs;
      const jobs: Job[] = [];
      for (const campaign of this.#stmts.campaignsWithQueued.all({ deviceId: o.deviceId, now: o.now })) {
        if (jobs.length >= o.max) break;
        const settings = settingsOf(campaign.request);
        for (const row of this.#stmts.queuedJobs.all({ deviceId: o.deviceId, campaignId: campaign.id, limit: o.max - jobs.length, now: o.now })) {
          this.#stmts.leaseJob.run({ id: row.id, leaseId, agentId: o.agentId, expiresAt });
          jobs.push({ id: row.id, campaignId: campaign.id, task: JSON.parse(row.payload) as JobTask, settings: { ...settings } });
        }
      }
      return jobs.length === 0 ? { leaseId: null, jobs: [], expiresAt: null } : { leaseId, jobs, expiresAt };
    }).immediate();
  }

  extendLeases(options: ExtendLeasesOptions): number {
    this.#live('extendLeases');
    const o = validate(ExtendLeasesOptionsSchema, options, 'options');
    if (o.expiresAt <= o.now) throw new StoreValidationError('options.expiresAt', `must be after now (${o.expiresAt} ≤ ${o.now})`);
    const params = { agentId: o.agentId, expiresAt: o.expiresAt, now: o.now };
    // one statement is one transaction
    if (o.leaseIds === undefined) return this.#stmts.extendAll.run(params).changes;
    if (o.leaseIds.length === 0) return 0;
    return this.#stmts.extendSome.run({ ...params, leaseIds: JSON.stringify(o.leaseIds) }).changes;
  }

  releaseLeases(options: ReleaseLeasesOptions): number {
    this.#live('releaseLeases');
    const o = validate(ReleaseLeasesOptionsSchema, options, 'options');
    if (o.leaseIds === undefined) return this.#stmts.releaseAll.run({ agentId: o.agentId }).changes;
    if (o.leaseIds.length === 0) return 0;
    return this.#stmts.releaseSome.run({ agentId: o.agentId, leaseIds: JSON.stringify(o.leaseIds) }).changes;
  }

  expireLeases(now: number): number {
    this.#live('expireLeases');
    return this.#stmts.expireLeases.run(validate(EpochMsSchema, now, 'now')).changes;
  }

  /** the device's last PERSISTENT_WINDOW results (this one included) are mostly disturbed */
  #persistentlyDisturbed(deviceId: string): boolean {
    const recent = this.#stmts.recentDisturbed.all({ deviceId, limit: PERSISTENT_WINDOW });
    return recent.length >= PERSISTENT_WINDOW && recent.filter((r) => r.disturbed === 1).length >= PERSISTENT_DISTURBED_SHARE * PERSISTENT_WINDOW;
  }

  completeJob(input: CompleteJobInput): CompleteOutcome {
    const db = this.#live('completeJob');
    const o = validate(CompleteJobInputSchema, input, 'input');
    const m = validate(MeasurementSchema, o.measurement, 'measurement');
    if (m.deviceId !== o.deviceId) {
      throw new StoreValidationError('measurement.deviceId', `'${m.deviceId}' is not the sending device '${o.deviceId}'`);
    }
    if (m.jobId != null && m.jobId !== o.jobId) {
      throw new StoreValidationError('measurement.jobId', `'${m.jobId}' is not the job being completed, '${o.jobId}'`);
    }
    const row = measurementToRow({ ...m, jobId: o.jobId }, 'measurement');
    const kernels = o.kernels === undefined ? undefined : validate(KernelProfileSchema, o.kernels, 'kernels');
    const now = o.now ?? Date.now();

    const write = db.transaction((): CompleteOutcome => {
      const job = this.#stmts.jobState.get(o.jobId);
      if (job === undefined) throw new StoreNotFoundError('job', o.jobId, 'completeJob');
      if (job.device_id !== o.deviceId) {
        throw new StoreJobStateError('wrong_device', o.jobId, `belongs to device '${job.device_id}', not '${o.deviceId}'`);
      }
      const stored = this.#stmts.measurementJob.get(m.id);
      if (stored !== undefined) {
        if (stored.job_id === o.jobId) return 'duplicate'; // the same result re-sent after a reconnect
        throw new StoreConflictError(
          'measurement',
          m.id,
          stored.job_id === null ? 'it is a measurement of no job' : `it completed job '${stored.job_id}'`,
        );
      }
      // another result (another agent of this device, or a re-lease) got there first
      if (job.status === 'done') return 'duplicate';
      if (job.attempts === 0) throw new StoreJobStateError('not_leased', o.jobId, 'was never leased, so no agent was asked to measure it');
      const task = this.#stmts.getTask.get(job.campaign_id, job.task_idx);
      if (task === undefined) throw new Error(`job '${o.jobId}' has no task: the database is inconsistent`);
      for (const field of ['level', 'space', 'key'] as const) {
        if (task[field] !== m[field]) {
          throw new StoreValidationError(
            `measurement.${field}`,
            `job '${o.jobId}' measures ${field} ${JSON.stringify(task[field])}, not ${JSON.stringify(m[field])}`,
          );
        }
      }
      this.#checkReferences([row], () => 'measurement');
      this.#stmts.insertMeasurement.run(row);
      // the network's kernels go with its measurement, in the same transaction (marked if it is disturbed)
      if (kernels !== undefined) this.#kernels.writeForMeasurement({ ...m, jobId: o.jobId }, kernels);
      // a disturbed result is kept (marked) and its job measured again later, a few times at most,
      // unless the device is disturbed for good
      if (row.disturbed === 1 && job.disturbed < MAX_DISTURBED_REQUEUES && !this.#persistentlyDisturbed(o.deviceId)) {
        this.#stmts.markDisturbed.run({ id: o.jobId, notBefore: now + DISTURBED_RETRY_MS * 2 ** job.disturbed });
        return 'requeued';
      }
      this.#stmts.markDone.run({ id: o.jobId, resultId: m.id, now });
      return 'stored';
    });
    try {
      return write.immediate();
    } catch (err) {
      if (isForeignKeyError(err)) {
        throw new StoreReferenceError('measurement', `a device, pass or job it refers to does not exist (${reasonOf(err)})`);
      }
      throw err;
    }
  }

  failJob(input: FailJobInput): FailOutcome {
    const db = this.#live('failJob');
    const o = validate(FailJobInputSchema, input, 'input');
    // IMMEDIATE: the lease check and the update must see the same row, or a failure could clear a
    // lease that another agent took in between.
    return db.transaction((): FailOutcome => {
      const job = this.#stmts.jobState.get(o.jobId);
      if (job === undefined) throw new StoreNotFoundError('job', o.jobId, 'failJob');
      if (job.device_id !== o.deviceId) {
        throw new StoreJobStateError('wrong_device', o.jobId, `belongs to device '${job.device_id}', not '${o.deviceId}'`);
      }
      if (job.status !== 'leased' || job.lease_owner !== o.agentId) {
        const state =
          job.status === 'done' ? 'is done' : job.status === 'queued' ? 'is not leased' : `is leased to another agent, not '${o.agentId}'`;
        throw new StoreJobStateError('not_leased', o.jobId, `${state}, so agent '${o.agentId}' cannot report it failed`);
      }
      this.#stmts.markFailed.run({ id: o.jobId, agentId: o.agentId, error: o.error });
      const failures = job.failures + 1;
      return { failures, gaveUp: failures >= MAX_JOB_FAILURES };
    }).immediate();
  }

  getJob(id: string): JobRecord | undefined {
    this.#live('getJob');
    const row = this.#stmts.getJob.get(validate(IdSchema, id, 'id'));
    return row === undefined ? undefined : jobFromRow(row);
  }

  /** The WHERE clause and parameters of a job filter (columns qualified by `j.`). */
  #jobFilter(filter: JobFilter | undefined): { where: string; params: Record<string, unknown>; limit: number | undefined } {
    const f = validate(JobFilterSchema, filter, 'filter') ?? {};
    const terms: string[] = [];
    const params: Record<string, unknown> = {};
    for (const [field, column] of [['campaignId', 'campaign_id'], ['deviceId', 'device_id']] as const) {
      if (f[field] === undefined) continue;
      terms.push(`j.${column} = @${field}`);
      params[field] = f[field];
    }
    // 'queued' is as stored (given-up jobs included); 'failed' is the given-up part of it
    if (f.status === 'failed') {
      terms.push(`(j.status = 'queued' AND j.failures >= ${MAX_JOB_FAILURES})`);
    } else if (f.status !== undefined) {
      terms.push('j.status = @status');
      params.status = f.status;
    }
    return { where: terms.length > 0 ? ` WHERE ${terms.join(' AND ')}` : '', params, limit: f.limit };
  }

  listJobs(filter?: JobFilter): JobRecord[] {
    this.#live('listJobs');
    const q = this.#jobFilter(filter);
    let sql = `SELECT j.*, t.payload, c.request
      FROM jobs j
      JOIN campaign_tasks t ON t.campaign_id = j.campaign_id AND t.idx = j.task_idx
      JOIN campaigns c ON c.id = j.campaign_id${q.where}
      ORDER BY c.created_at, c.id, j.task_idx, j.device_id`;
    if (q.limit !== undefined) {
      sql += ' LIMIT @limit';
      q.params.limit = q.limit;
    }
    return (this.#statement(sql).all(q.params) as JobDetailRow[]).map(jobFromRow);
  }

  countJobs(filter?: JobFilter): number {
    this.#live('countJobs');
    const q = this.#jobFilter(filter);
    const { n } = this.#statement(`SELECT COUNT(*) AS n FROM jobs j${q.where}`).get(q.params) as { n: number };
    return q.limit === undefined ? n : Math.min(n, q.limit);
  }

  insertKernelProfiles(profiles: KernelProfileRecord[]): InsertResult {
    this.#live('insertKernelProfiles');
    return this.#kernels.insert(profiles);
  }

  listKernelProfiles(filter?: KernelProfileFilter): KernelProfileRecord[] {
    this.#live('listKernelProfiles');
    return this.#kernels.list(filter);
  }

  countKernelProfiles(filter?: KernelProfileFilter): number {
    this.#live('countKernelProfiles');
    return this.#kernels.count(filter);
  }

  listTimedKernels(filter?: TimedKernelFilter): StoredTimedKernel[] {
    this.#live('listTimedKernels');
    return this.#kernels.listKernels(filter);
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

// a full disk, an I/O error or a lasting lock reaches callers as StoreUnavailableError
guardUnavailable(SqliteStore, (store: SqliteStore) => store.path);
