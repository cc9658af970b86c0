import type { Database as SqliteDb, Statement } from 'better-sqlite3';
import type { DeviceProfile, Pass } from '../../../protocol/index.ts';
import { deviceFromRow, passFromRow, type DeviceRow, type PassRow } from '../rows.ts';
import type { DeviceSummary, PassFinish } from '../types.ts';

// Devices and their passes, the SQLite way: statements prepared once; the backend runs them inside
// its transactions with validated arguments.

export class DeviceTables {
  readonly #stmts: {
    upsertDevice: Statement;
    getDevice: Statement<[string], DeviceRow>;
    deviceExists: Statement<[string], number>;
    listDevices: Statement<[], DeviceRow & { measurements: number }>;
    insertPass: Statement;
    getPass: Statement<[string], PassRow>;
    passOwner: Statement<[string], string>;
    finishPass: Statement;
  };

  constructor(db: SqliteDb) {
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
      passOwner: db.prepare<[string], string>('SELECT device_id FROM passes WHERE id = ?').pluck(),
      finishPass: db.prepare(
        `UPDATE passes SET finished_at = @finishedAt, calibration_ms = @calibrationMs, calibration_trace = @calibrationTrace
         WHERE id = @id`,
      ),
    };
  }

  upsert(p: DeviceProfile, now: string): void {
    this.#stmts.upsertDevice.run({
      id: p.id,
      name: p.name,
      hardware: JSON.stringify(p.hardware),
      runtime: JSON.stringify(p.runtime),
      backend: p.runtime.backend,
      provider: p.runtime.provider,
      runtimeVersion: p.runtime.version,
      threads: p.runtime.threads,
      now,
    });
  }

  get(id: string): DeviceProfile | undefined {
    const row = this.#stmts.getDevice.get(id);
    return row === undefined ? undefined : deviceFromRow(row);
  }

  exists(id: string): boolean {
    return this.#stmts.deviceExists.get(id) !== undefined;
  }

  /** The ids among `ids` that are stored devices. */
  known(ids: Iterable<string>): Set<string> {
    const out = new Set<string>();
    for (const id of new Set(ids)) if (this.exists(id)) out.add(id);
    return out;
  }

  list(): DeviceSummary[] {
    return this.#stmts.listDevices.all().map((row) => ({ ...deviceFromRow(row), measurements: row.measurements }));
  }

  insertPass(p: Pass): void {
    this.#stmts.insertPass.run({ ...p, calibrationTrace: JSON.stringify(p.calibrationTrace) });
  }

  getPass(id: string): Pass | undefined {
    const row = this.#stmts.getPass.get(id);
    return row === undefined ? undefined : passFromRow(row);
  }

  /** pass id → its device, for the stored passes among `ids` */
  passOwners(ids: Iterable<string>): Map<string, string> {
    const out = new Map<string, string>();
    for (const id of new Set(ids)) {
      const owner = this.#stmts.passOwner.get(id);
      if (owner !== undefined) out.set(id, owner);
    }
    return out;
  }

  /** false when the pass is unknown */
  finishPass(id: string, f: PassFinish): boolean {
    return this.#stmts.finishPass.run({ ...f, id, calibrationTrace: JSON.stringify(f.calibrationTrace) }).changes > 0;
  }
}
