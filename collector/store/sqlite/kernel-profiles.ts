import type { Database as SqliteDb, Statement } from 'better-sqlite3';
import type { KernelProfileRecord } from '../../../protocol/index.ts';
import { checkKernelProfile } from '../references.ts';
import { KERNEL_COLUMNS, PROFILE_COLUMNS, kernelFromRow, kernelRowsOf, profileFromRow, type KernelRow, type ProfileRow } from '../rows.ts';
import type { KernelProfileFilter, StoredTimedKernel, TimedKernelFilter } from '../types.ts';

// Kernel profiles and their timed kernels (migration 6), the SQLite way: the backend calls this
// table inside its transactions; arguments arrive validated (checked.ts).

export class KernelProfileTable {
  readonly #db: SqliteDb;
  readonly #stmts: {
    insertProfile: Statement;
    insertKernel: Statement;
    deviceExists: Statement<[string], number>;
    measurement: Statement<[string], { device_id: string; level: 'op' | 'network'; space: string | null; key: string; disturbed: number }>;
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
   * its device and, for a network profile, its measurement (references.checkKernelProfile).
   */
  write(r: KernelProfileRecord, argument: string): boolean {
    const m = r.measurementId === null ? undefined : this.#stmts.measurement.get(r.measurementId);
    const disturbed = checkKernelProfile({
      record: r,
      argument,
      deviceKnown: this.#stmts.deviceExists.get(r.deviceId) !== undefined,
      measurement: m && { deviceId: m.device_id, level: m.level, space: m.space, key: m.key, disturbed: m.disturbed === 1 },
      otherProfile: r.measurementId === null ? undefined : this.#stmts.profileOfMeasurement.get(r.measurementId),
    })
      ? 1
      : 0;
    const p = r.profile;
    const inserted = this.#stmts.insertProfile.run({
      id: r.id, device_id: r.deviceId, source: r.source, measurement_id: r.measurementId, space: r.space, key: r.key,
      spec: r.spec === undefined ? null : JSON.stringify(r.spec), batch: r.batch, calibration_ms: r.calibrationMs,
      runs: p.runs, warmup: p.warmup, run_ms: p.runMs, kernel_sum_ms: p.kernelSumMs, kernels: p.kernels.length, disturbed, created_at: r.createdAt,
    }).changes;
    if (inserted === 0) return false;
    for (const row of kernelRowsOf(r)) this.#stmts.insertKernel.run(row);
    return true;
  }

  /** Writes validated records (inside the caller's transaction); returns how many were new. */
  insert(records: readonly KernelProfileRecord[]): number {
    return records.reduce((n, r, i) => n + (this.write(r, `profiles[${i}]`) ? 1 : 0), 0);
  }

  #where(f: KernelProfileFilter): { where: string; params: Record<string, unknown>; limit?: number } {
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

  list(filter: KernelProfileFilter): KernelProfileRecord[] {
    const q = this.#where(filter);
    let sql = `SELECT ${PROFILE_COLUMNS.join(', ')} FROM kernel_profiles${q.where} ORDER BY created_at, id`;
    if (q.limit !== undefined) (sql += ' LIMIT @limit'), (q.params.limit = q.limit);
    return (this.#statement(sql).all(q.params) as ProfileRow[]).map((r) => profileFromRow(r, this.#stmts.kernelsOf.all(r.id)));
  }

  /** matching rows, not capped by `limit` (checkedStore caps) */
  count(filter: KernelProfileFilter): number {
    const q = this.#where(filter);
    return (this.#statement(`SELECT COUNT(*) AS n FROM kernel_profiles${q.where}`).get(q.params) as { n: number }).n;
  }

  listKernels(f: TimedKernelFilter): StoredTimedKernel[] {
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
