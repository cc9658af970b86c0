import type { DeviceProfile, Pass } from '../../../protocol/index.ts';
import { checkSamePass, unknownDevice } from '../references.ts';
import type { DeviceSummary, PassFinish } from '../types.ts';
import type { PgDb } from './db.ts';
import { deviceFromRow, passFromRow, type DeviceRow, type PassRow } from '../rows.ts';

// Devices and passes on PostgreSQL: the first half of the PostgreSQL backend (backend.ts).

export async function upsertDevice(db: PgDb, p: DeviceProfile, now: string): Promise<void> {
  await db.query(
    'upsertDevice',
    `INSERT INTO devices (id, name, hardware, runtime, backend, provider, runtime_version, threads, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
     ON CONFLICT (id) DO UPDATE SET
       name = excluded.name, hardware = excluded.hardware, runtime = excluded.runtime,
       backend = excluded.backend, provider = excluded.provider,
       runtime_version = excluded.runtime_version, threads = excluded.threads,
       updated_at = excluded.updated_at`,
    [p.id, p.name, JSON.stringify(p.hardware), JSON.stringify(p.runtime), p.runtime.backend, p.runtime.provider, p.runtime.version, p.runtime.threads, now],
  );
}

export async function getDevice(db: PgDb, id: string): Promise<DeviceProfile | undefined> {
  const { rows } = await db.query<DeviceRow>('getDevice', 'SELECT id, name, hardware, runtime FROM devices WHERE id = $1', [id]);
  return rows[0] === undefined ? undefined : deviceFromRow(rows[0]);
}

export async function listDevices(db: PgDb): Promise<DeviceSummary[]> {
  const { rows } = await db.query<DeviceRow & { measurements: number }>(
    'listDevices',
    `SELECT d.id, d.name, d.hardware, d.runtime,
            (SELECT COUNT(*) FROM measurements m WHERE m.device_id = d.id) AS measurements
     FROM devices d ORDER BY d.created_at, d.id`,
  );
  return rows.map((row) => ({ ...deviceFromRow(row), measurements: row.measurements }));
}

export async function startPass(db: PgDb, p: Pass): Promise<void> {
  await db.tx('startPass', async (c) => {
    // FOR SHARE: the device cannot vanish under the insert (nothing deletes devices today, but the
    // lock costs nothing and keeps the check honest)
    const device = await c.query('SELECT 1 FROM devices WHERE id = $1 FOR SHARE', [p.deviceId]);
    if (device.rowCount === 0) throw unknownDevice('pass.deviceId', p.deviceId);
    // ON CONFLICT DO NOTHING, then compare: two replicas receiving the same re-sent pass at once
    // must both succeed (or both see the conflict), never fail on the unique key
    const inserted = await c.query(
      `INSERT INTO passes (id, device_id, started_at, finished_at, calibration_key, calibration_ms, calibration_trace)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING`,
      [p.id, p.deviceId, p.startedAt, p.finishedAt, p.calibrationKey, p.calibrationMs, JSON.stringify(p.calibrationTrace)],
    );
    if (inserted.rowCount === 1) return;
    const { rows } = await c.query<PassRow>('SELECT * FROM passes WHERE id = $1', [p.id]);
    checkSamePass(passFromRow(rows[0]!), p);
  });
}

export async function finishPass(db: PgDb, id: string, f: PassFinish): Promise<boolean> {
  const res = await db.query(
    'finishPass',
    'UPDATE passes SET finished_at = $2, calibration_ms = $3, calibration_trace = $4 WHERE id = $1',
    [id, f.finishedAt, f.calibrationMs, JSON.stringify(f.calibrationTrace)],
  );
  return res.rowCount === 1;
}

export async function getPass(db: PgDb, id: string): Promise<Pass | undefined> {
  const { rows } = await db.query<PassRow>('getPass', 'SELECT * FROM passes WHERE id = $1', [id]);
  return rows[0] === undefined ? undefined : passFromRow(rows[0]);
}
