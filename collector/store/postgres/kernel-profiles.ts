import type { KernelProfileRecord } from '../../../protocol/index.ts';
import { checkKernelProfile } from '../references.ts';
import type { KernelProfileFilter, StoredTimedKernel, TimedKernelFilter } from '../types.ts';
import type { PgDb, Queryable } from './db.ts';
import { KERNEL_COLUMNS, PROFILE_COLUMNS, kernelFromRow, kernelRowsOf, profileFromRow, type KernelRow, type ProfileRow } from '../rows.ts';
import { KERNEL_TYPES, columnsOf, unnestOf } from './unnest.ts';

// Kernel profiles and their timed kernels on PostgreSQL (backend.ts; completeJob writes a job's
// kernels through writeProfile inside its transaction).

/**
 * Checks one validated record against the store (references.checkKernelProfile) and writes it with
 * its kernels; false for a known id. Inside the caller's transaction.
 */
export async function writeProfile(c: Queryable, r: KernelProfileRecord, argument: string): Promise<boolean> {
  const { rows } = await c.query<{ device_known: boolean; m_device: string | null; m_level: 'op' | 'network' | null; m_space: string | null; m_key: string | null; m_disturbed: boolean | null; other: string | null }>(
    `SELECT EXISTS (SELECT 1 FROM devices WHERE id = $1) AS device_known,
            m.device_id AS m_device, m.level AS m_level, m.space AS m_space, m.key AS m_key, m.disturbed AS m_disturbed,
            (SELECT id FROM kernel_profiles WHERE measurement_id = $2) AS other
     FROM (SELECT 1) AS one LEFT JOIN measurements m ON m.id = $2`,
    [r.deviceId, r.measurementId],
  );
  const x = rows[0]!;
  const disturbed = checkKernelProfile({
    record: r,
    argument,
    deviceKnown: x.device_known,
    measurement: x.m_device === null ? undefined : { deviceId: x.m_device, level: x.m_level!, space: x.m_space, key: x.m_key!, disturbed: x.m_disturbed === true },
    otherProfile: x.other ?? undefined,
  });
  const p = r.profile;
  const inserted = await c.query(
    `INSERT INTO kernel_profiles (${PROFILE_COLUMNS.join(', ')})
     VALUES (${PROFILE_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')}) ON CONFLICT (id) DO NOTHING`,
    [r.id, r.deviceId, r.source, r.measurementId, r.space, r.key, r.spec === undefined ? null : JSON.stringify(r.spec), r.batch, r.calibrationMs,
      p.runs, p.warmup, p.runMs, p.kernelSumMs, p.kernels.length, disturbed, r.createdAt],
  );
  if (inserted.rowCount === 0) return false;
  await c.query(`INSERT INTO timed_kernels (${KERNEL_COLUMNS.join(', ')}) SELECT * FROM ${unnestOf(KERNEL_COLUMNS, KERNEL_TYPES)}`, columnsOf(kernelRowsOf(r), KERNEL_COLUMNS));
  return true;
}

export async function insertKernelProfiles(db: PgDb, records: readonly KernelProfileRecord[]): Promise<number> {
  return db.tx('insertKernelProfiles', async (c) => {
    let inserted = 0;
    for (const [i, r] of records.entries()) if (await writeProfile(c, r, `profiles[${i}]`)) inserted++;
    return inserted;
  });
}

function profileWhere(f: KernelProfileFilter): { sql: string; params: unknown[] } {
  const terms: string[] = [];
  const params: unknown[] = [];
  for (const [field, column] of [['deviceId', 'device_id'], ['source', 'source'], ['key', 'key'], ['measurementId', 'measurement_id']] as const) {
    if (f[field] === undefined) continue;
    params.push(f[field]);
    terms.push(`${column} = $${params.length}`);
  }
  if (f.space === null) terms.push('space IS NULL');
  else if (f.space !== undefined) (params.push(f.space), terms.push(`space = $${params.length}`));
  return { sql: terms.length > 0 ? ` WHERE ${terms.join(' AND ')}` : '', params };
}

export async function listKernelProfiles(db: PgDb, f: KernelProfileFilter): Promise<KernelProfileRecord[]> {
  const q = profileWhere(f);
  let sql = `SELECT ${PROFILE_COLUMNS.join(', ')} FROM kernel_profiles${q.sql} ORDER BY created_at, id`;
  if (f.limit !== undefined) (q.params.push(f.limit), (sql += ` LIMIT $${q.params.length}`));
  // one read transaction: the profiles and their kernels come from the same snapshot
  return db.tx('listKernelProfiles', async (c) => {
    await c.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    const profiles = await c.query<ProfileRow>(sql, q.params);
    if (profiles.rowCount === 0) return [];
    const kernels = await c.query<KernelRow>(
      `SELECT ${KERNEL_COLUMNS.join(', ')} FROM timed_kernels WHERE profile_id = ANY($1::text[]) ORDER BY profile_id, position`,
      [profiles.rows.map((p) => p.id)],
    );
    const byProfile = new Map<string, KernelRow[]>();
    for (const k of kernels.rows) {
      let list = byProfile.get(k.profile_id);
      if (list === undefined) byProfile.set(k.profile_id, (list = []));
      list.push(k);
    }
    return profiles.rows.map((p) => profileFromRow(p, byProfile.get(p.id) ?? []));
  });
}

export async function countKernelProfiles(db: PgDb, f: KernelProfileFilter): Promise<number> {
  const q = profileWhere(f);
  const { rows } = await db.query<{ n: number }>('countKernelProfiles', `SELECT COUNT(*) AS n FROM kernel_profiles${q.sql}`, q.params);
  return rows[0]!.n;
}

export async function listTimedKernels(db: PgDb, f: TimedKernelFilter): Promise<StoredTimedKernel[]> {
  const terms: string[] = [];
  const params: unknown[] = [];
  if (f.deviceId !== undefined) (params.push(f.deviceId), terms.push(`k.device_id = $${params.length}`));
  if (f.op !== undefined) (params.push(f.op), terms.push(`k.op = $${params.length}`));
  if (f.source !== undefined) (params.push(f.source), terms.push(`p.source = $${params.length}`));
  if (f.usableOnly) terms.push('NOT p.disturbed');
  let sql = `SELECT k.*, p.source, p.space, p.key, p.batch, p.calibration_ms, p.disturbed
    FROM timed_kernels k JOIN kernel_profiles p ON p.id = k.profile_id${terms.length ? ` WHERE ${terms.join(' AND ')}` : ''}
    ORDER BY p.created_at, p.id, k.position`;
  if (f.limit !== undefined) (params.push(f.limit), (sql += ` LIMIT $${params.length}`));
  type Row = KernelRow & Pick<ProfileRow, 'source' | 'space' | 'key' | 'batch' | 'calibration_ms' | 'disturbed'>;
  const { rows } = await db.query<Row>('listTimedKernels', sql, params);
  return rows.map((r) => ({
    profileId: r.profile_id,
    deviceId: r.device_id,
    source: r.source,
    space: r.space,
    key: r.key,
    batch: r.batch,
    calibrationMs: r.calibration_ms,
    disturbed: r.disturbed === true,
    position: r.position,
    ...kernelFromRow(r),
  }));
}
