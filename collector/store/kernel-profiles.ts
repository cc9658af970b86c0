import type { Database as SqliteDb, Statement } from 'better-sqlite3';
import { z } from 'zod';
import { KernelProfileRecordSchema, KernelSourceSchema, type KernelProfile, type KernelProfileRecord, type Measurement } from '../../protocol/index.ts';
import { StoreConflictError, StoreReferenceError, StoreValidationError } from './errors.ts';
import type { InsertResult, KernelProfileFilter, StoredTimedKernel, TimedKernelFilter } from './types.ts';

// The kernel-profile half of the SQLite store (migration 6): SqliteStore delegates to this table
// object, which shares its connection and runs inside its transactions.

function validate<S extends z.ZodType>(schema: S, value: unknown, argument: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const [first, ...rest] = result.error.issues;
  const path = (first?.path ?? []).map((k) => (typeof k === 'number' ? `[${k}]` : `.${String(k)}`)).join('');
  const more = rest.length > 0 ? ` (and ${rest.length} more issue${rest.length > 1 ? 's' : ''})` : '';
  throw new StoreValidationError(argument + path, `${first?.message ?? 'invalid'}${more}`);
}

const ProfileFilterSchema = z
  .strictObject({
    deviceId: z.string().min(1).optional(),
    source: KernelSourceSchema.optional(),
    space: z.string().min(1).nullable().optional(),
    key: z.string().min(1).optional(),
    measurementId: z.string().min(1).optional(),
    limit: z.number().int().positive().optional(),
  })
  .optional();

const KernelFilterSchema = z
  .strictObject({
    deviceId: z.string().min(1).optional(),
    op: z.string().min(1).optional(),
    source: KernelSourceSchema.optional(),
    usableOnly: z.boolean().optional(),
    limit: z.number().int().positive().optional(),
  })
  .optional();

interface ProfileRow {
  id: string;
  device_id: string;
  source: 'network' | 'sample';
  measurement_id: string | null;
  space: string | null;
  key: string;
  spec: string | null;
  batch: number;
  calibration_ms: number | null;
  runs: number;
  warmup: number;
  run_ms: number;
  kernel_sum_ms: number;
  kernels: number;
  disturbed: number;
  created_at: string;
}

interface KernelRow {
  profile_id: string;
  position: number;
  device_id: string;
  name: string;
  op: string;
  attrs: string;
  inputs: string;
  outputs: string;
  nodes: string;
  ms: number;
}

const PROFILE_COLUMNS = [
  'id', 'device_id', 'source', 'measurement_id', 'space', 'key', 'spec', 'batch', 'calibration_ms', 'runs', 'warmup', 'run_ms', 'kernel_sum_ms', 'kernels', 'disturbed', 'created_at',
] as const;
const KERNEL_COLUMNS = ['profile_id', 'position', 'device_id', 'name', 'op', 'attrs', 'inputs', 'outputs', 'nodes', 'ms'] as const;

function kernelFromRow(r: KernelRow): KernelProfile['kernels'][number] {
  return { op: r.op, attrs: JSON.parse(r.attrs), inputs: JSON.parse(r.inputs), outputs: JSON.parse(r.outputs), nodes: JSON.parse(r.nodes), name: r.name, ms: r.ms };
}

export class KernelProfileTable {
  readonly #db: SqliteDb;
  readonly #stmts: {
    insertProfile: Statement;
    insertKernel: Statement;
    deviceExists: Statement<[string], number>;
    measurement: Statement<[string], { device_id: string; level: string; space: string | null; key: string; disturbed: number }>;
    profileOfMeasurement: Statement<[string], string>;
    kernelsOf: Statement<[string], KernelRow>;
  };
  readonly #cache = new Map<string, Statement<[Record<string, unknown>], unknown>>();

  constructor(db: SqliteDb) {
    this.#db = db;
    this.#stmts = {
      insertProfile: db.prepare(
        `INSERT INTO kernel_profiles (${PROFILE_COLUMNS.join(', ')}) VALUES (${PROFILE_COLUMNS.map((c) => `@${c}`).join(', ')})
         ON CONFLICT (id) DO NOTHING`,
      ),
      insertKernel: db.prepare(`INSERT INTO timed_kernels (${KERNEL_COLUMNS.join(', ')}) VALUES (${KERNEL_COLUMNS.map((c) => `@${c}`).join(', ')})`),
      deviceExists: db.prepare<[string], number>('SELECT 1 FROM devices WHERE id = ?').pluck(),
      measurement: db.prepare('SELECT device_id, level, space, key, disturbed FROM measurements WHERE id = ?'),
      profileOfMeasurement: db.prepare<[string], string>('SELECT id FROM kernel_profiles WHERE measurement_id = ?').pluck(),
      kernelsOf: db.prepare(`SELECT ${KERNEL_COLUMNS.join(', ')} FROM timed_kernels WHERE profile_id = ? ORDER BY position`),
    };
  }

  #statement(sql: string): Statement<[Record<string, unknown>], unknown> {
    let s = this.#cache.get(sql);
    if (!s) this.#cache.set(sql, (s = this.#db.prepare<[Record<string, unknown>], unknown>(sql)));
    return s;
  }

  /**
   * Writes one validated record (inside the caller's transaction); false for a known id. Checks
   * its device and, for a network profile, its measurement.
   */
  write(r: KernelProfileRecord, argument: string): boolean {
    if (this.#stmts.deviceExists.get(r.deviceId) === undefined) {
      throw new StoreReferenceError(`${argument}.deviceId`, `unknown device '${r.deviceId}'; upsertDevice it first`);
    }
    let disturbed = 0;
    if (r.measurementId !== null) {
      const m = this.#stmts.measurement.get(r.measurementId);
      const field = `${argument}.measurementId`;
      if (m === undefined) throw new StoreReferenceError(field, `unknown measurement '${r.measurementId}'; store the network's measurement first`);
      if (m.device_id !== r.deviceId) throw new StoreReferenceError(field, `measurement '${r.measurementId}' is of device '${m.device_id}', not '${r.deviceId}'`);
      if (m.level !== 'network' || m.space !== r.space || m.key !== r.key) {
        throw new StoreReferenceError(field, `measurement '${r.measurementId}' is ${m.level} ${JSON.stringify(m.space)} '${m.key}', not the profiled network ${JSON.stringify(r.space)} '${r.key}'`);
      }
      const other = this.#stmts.profileOfMeasurement.get(r.measurementId);
      if (other !== undefined && other !== r.id) throw new StoreConflictError('kernel profile', r.id, `measurement '${r.measurementId}' already has profile '${other}'`);
      disturbed = m.disturbed;
    }
    const p = r.profile;
    const inserted = this.#stmts.insertProfile.run({
      id: r.id, device_id: r.deviceId, source: r.source, measurement_id: r.measurementId, space: r.space, key: r.key,
      spec: r.spec === undefined ? null : JSON.stringify(r.spec), batch: r.batch, calibration_ms: r.calibrationMs,
      runs: p.runs, warmup: p.warmup, run_ms: p.runMs, kernel_sum_ms: p.kernelSumMs, kernels: p.kernels.length, disturbed, created_at: r.createdAt,
    }).changes;
    if (inserted === 0) return false;
    p.kernels.forEach((k, position) => {
      this.#stmts.insertKernel.run({
        profile_id: r.id, position, device_id: r.deviceId, name: k.name, op: k.op,
        attrs: JSON.stringify(k.attrs), inputs: JSON.stringify(k.inputs), outputs: JSON.stringify(k.outputs), nodes: JSON.stringify(k.nodes), ms: k.ms,
      });
    });
    return true;
  }

  /** Validates a record (StoreValidationError naming the field). */
  validate(record: unknown, argument: string): KernelProfileRecord {
    return validate(KernelProfileRecordSchema, record, argument);
  }

  insert(records: KernelProfileRecord[]): InsertResult {
    if (!Array.isArray(records)) throw new StoreValidationError('profiles', `must be an array, got ${records === null ? 'null' : typeof records}`);
    const valid = records.map((r, i) => this.validate(r, `profiles[${i}]`));
    if (valid.length === 0) return { inserted: 0, duplicates: 0 };
    const inserted = this.#db.transaction(() => valid.reduce((n, r, i) => n + (this.write(r, `profiles[${i}]`) ? 1 : 0), 0)).immediate();
    return { inserted, duplicates: valid.length - inserted };
  }

  /** The kernel profile of a job's network measurement, written inside completeJob's transaction. */
  writeForMeasurement(m: Measurement, profile: KernelProfile): void {
    const record = this.validate(
      { id: m.id, deviceId: m.deviceId, source: 'network', measurementId: m.id, space: m.space, key: m.key, batch: m.batch, calibrationMs: m.calibrationMs, profile, createdAt: m.createdAt },
      'kernels',
    );
    this.write(record, 'kernels');
  }

  #where(filter: KernelProfileFilter | undefined): { where: string; params: Record<string, unknown>; limit?: number } {
    const f = validate(ProfileFilterSchema, filter, 'filter') ?? {};
    const terms: string[] = [];
    const params: Record<string, unknown> = {};
    for (const [field, column] of [['deviceId', 'device_id'], ['source', 'source'], ['key', 'key'], ['measurementId', 'measurement_id']] as const) {
      if (f[field] === undefined) continue;
      terms.push(`${column} = @${field}`);
      params[field] = f[field];
    }
    if (f.space === null) terms.push('space IS NULL');
    else if (f.space !== undefined) (terms.push('space = @space'), (params.space = f.space));
    return { where: terms.length ? ` WHERE ${terms.join(' AND ')}` : '', params, ...(f.limit !== undefined ? { limit: f.limit } : {}) };
  }

  list(filter?: KernelProfileFilter): KernelProfileRecord[] {
    const q = this.#where(filter);
    let sql = `SELECT ${PROFILE_COLUMNS.join(', ')} FROM kernel_profiles${q.where} ORDER BY created_at, id`;
    if (q.limit !== undefined) (sql += ' LIMIT @limit'), (q.params.limit = q.limit);
    return (this.#statement(sql).all(q.params) as ProfileRow[]).map((r) => {
      const record: KernelProfileRecord = {
        id: r.id, deviceId: r.device_id, source: r.source, measurementId: r.measurement_id, space: r.space, key: r.key, batch: r.batch, calibrationMs: r.calibration_ms,
        profile: { runs: r.runs, warmup: r.warmup, runMs: r.run_ms, kernelSumMs: r.kernel_sum_ms, kernels: this.#stmts.kernelsOf.all(r.id).map(kernelFromRow) },
        createdAt: r.created_at,
      };
      if (r.spec !== null) record.spec = JSON.parse(r.spec);
      return record;
    });
  }

  count(filter?: KernelProfileFilter): number {
    const q = this.#where(filter);
    const { n } = this.#statement(`SELECT COUNT(*) AS n FROM kernel_profiles${q.where}`).get(q.params) as { n: number };
    return q.limit === undefined ? n : Math.min(n, q.limit);
  }

  listKernels(filter?: TimedKernelFilter): StoredTimedKernel[] {
    const f = validate(KernelFilterSchema, filter, 'filter') ?? {};
    const terms: string[] = [];
    const params: Record<string, unknown> = {};
    if (f.deviceId !== undefined) (terms.push('k.device_id = @deviceId'), (params.deviceId = f.deviceId));
    if (f.op !== undefined) (terms.push('k.op = @op'), (params.op = f.op));
    if (f.source !== undefined) (terms.push('p.source = @source'), (params.source = f.source));
    if (f.usableOnly) terms.push('p.disturbed = 0');
    let sql = `SELECT k.*, p.source, p.space, p.key, p.batch, p.calibration_ms, p.disturbed
      FROM timed_kernels k JOIN kernel_profiles p ON p.id = k.profile_id${terms.length ? ` WHERE ${terms.join(' AND ')}` : ''}
      ORDER BY p.created_at, p.id, k.position`;
    if (f.limit !== undefined) (sql += ' LIMIT @limit'), (params.limit = f.limit);
    type Row = KernelRow & Pick<ProfileRow, 'source' | 'space' | 'key' | 'batch' | 'calibration_ms' | 'disturbed'>;
    return (this.#statement(sql).all(params) as Row[]).map((r) => ({
      profileId: r.profile_id, deviceId: r.device_id, source: r.source, space: r.space, key: r.key, batch: r.batch, calibrationMs: r.calibration_ms,
      disturbed: r.disturbed === 1, position: r.position, ...kernelFromRow(r),
    }));
  }
}
