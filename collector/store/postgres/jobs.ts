import type { Job, JobTask, MeasureSettings, CampaignRequest } from '../../../protocol/index.ts';
import { StoreConflictError } from '../errors.ts';
import { checkMeasurementReferences } from '../references.ts';
import { MAX_JOB_FAILURES, PERSISTENT_WINDOW, afterResult, isDisturbed, judgeFailure, judgeResult } from '../job-rules.ts';
import type {
  CompleteOutcome,
  ExtendLeasesOptions,
  FailJobInput,
  FailOutcome,
  JobFilter,
  JobRecord,
  LeaseOptions,
  NewResult,
  ReleaseLeasesOptions,
  TaskIdentity,
} from '../types.ts';
import type { PgDb, Queryable } from './db.ts';
import { writeProfile } from './kernel-profiles.ts';
import { writeMeasurements } from './measurements.ts';
import { MEASUREMENT_COLUMNS, MEASUREMENT_TYPES, columnsOf, jobFromRow, jobStateFromRow, measurementToRow, unnestOf, type JobDetailRow, type JobRow } from './rows.ts';

// The job queue on PostgreSQL (backend.ts). Every state change locks the job rows it changes
// (FOR UPDATE; SKIP LOCKED when choosing jobs to lease), so collector replicas on one database
// never lease a job twice nor complete it twice, and each method commits before it resolves.

const CLEAR_LEASE = 'lease_id = NULL, lease_owner = NULL, lease_expires_at = NULL';

/**
 * Returns expired leases to the queue (job-rules.leaseExpired). SKIP LOCKED: a job another
 * transaction holds is being expired, completed or failed by it right now; waiting for it would
 * only serialise replicas.
 */
async function expire(c: Queryable, now: number): Promise<number> {
  const res = await c.query(
    `UPDATE jobs SET status = 'queued', ${CLEAR_LEASE}
     WHERE id IN (SELECT id FROM jobs WHERE status = 'leased' AND lease_expires_at <= $1 FOR UPDATE SKIP LOCKED)`,
    [now],
  );
  return res.rowCount ?? 0;
}

export async function expireLeases(db: PgDb, now: number): Promise<number> {
  return db.tx('expireLeases', (c) => expire(c, now));
}

/**
 * job-rules.isLeasable in SQL, oldest campaign first, then task order. FOR UPDATE OF j SKIP
 * LOCKED: two replicas leasing for the same device at once each take different jobs; a job whose
 * row changed after this statement's snapshot (leased and committed by another replica) is
 * re-checked against the WHERE clause under the lock and dropped.
 */
const PICK_AND_LEASE = `WITH picked AS (
    SELECT j.id FROM jobs j JOIN campaigns c ON c.id = j.campaign_id
    WHERE j.device_id = $1 AND j.status = 'queued' AND j.failures < ${MAX_JOB_FAILURES}
      AND (j.not_before IS NULL OR j.not_before <= $2)
    ORDER BY c.created_at, c.id, j.task_idx
    LIMIT $3
    FOR UPDATE OF j SKIP LOCKED
  )
  UPDATE jobs j SET status = 'leased', lease_id = $4, lease_owner = $5, lease_expires_at = $6, attempts = j.attempts + 1
  FROM picked WHERE j.id = picked.id
  RETURNING j.id`;

export async function leaseJobs(db: PgDb, o: LeaseOptions, leaseId: string): Promise<Job[]> {
  return db.tx('leaseJobs', async (c) => {
    await expire(c, o.now);
    const leased = await c.query<{ id: string }>({ name: 'hwlat_pick_and_lease', text: PICK_AND_LEASE, values: [o.deviceId, o.now, o.max, leaseId, o.agentId, o.now + o.ttlMs] });
    if (leased.rowCount === 0) return [];
    // RETURNING has no order: read the leased jobs back in leasing order, with their tasks
    const { rows } = await c.query<{ id: string; campaign_id: string; payload: string; request: string }>(
      `SELECT j.id, j.campaign_id, t.payload, c.request
       FROM jobs j JOIN campaign_tasks t ON t.campaign_id = j.campaign_id AND t.idx = j.task_idx
       JOIN campaigns c ON c.id = j.campaign_id
       WHERE j.id = ANY($1::text[])
       ORDER BY c.created_at, c.id, j.task_idx`,
      [leased.rows.map((r) => r.id)],
    );
    const settings = new Map<string, MeasureSettings>();
    return rows.map((r) => {
      let s = settings.get(r.campaign_id);
      if (s === undefined) settings.set(r.campaign_id, (s = (JSON.parse(r.request) as CampaignRequest).settings));
      return { id: r.id, campaignId: r.campaign_id, task: JSON.parse(r.payload) as JobTask, settings: { ...s } };
    });
  });
}

export async function extendLeases(db: PgDb, o: ExtendLeasesOptions): Promise<number> {
  const params: unknown[] = [o.agentId, o.expiresAt, o.now];
  let sql = `UPDATE jobs SET lease_expires_at = GREATEST(lease_expires_at, $2)
             WHERE lease_owner = $1 AND status = 'leased' AND lease_expires_at > $3`;
  if (o.leaseIds !== undefined) {
    params.push(o.leaseIds);
    sql += ' AND lease_id = ANY($4::text[])';
  }
  const res = await db.query('extendLeases', sql, params);
  return res.rowCount ?? 0;
}

export async function releaseLeases(db: PgDb, o: ReleaseLeasesOptions): Promise<number> {
  const params: unknown[] = [o.agentId];
  let sql = `UPDATE jobs SET status = 'queued', ${CLEAR_LEASE} WHERE lease_owner = $1 AND status = 'leased'`;
  if (o.leaseIds !== undefined) {
    params.push(o.leaseIds);
    sql += ' AND lease_id = ANY($2::text[])';
  }
  const res = await db.query('releaseLeases', sql, params);
  return res.rowCount ?? 0;
}

async function lockJob(c: Queryable, id: string): Promise<JobRow | undefined> {
  const { rows } = await c.query<JobRow>('SELECT * FROM jobs WHERE id = $1 FOR UPDATE', [id]);
  return rows[0];
}

/**
 * The columns job-rules needs (JobState), named rather than `j.*`: a prepared statement's result
 * must keep its shape even after a later migration adds a column to jobs.
 */
const JOB_STATE = ['id', 'device_id', 'campaign_id', 'task_idx', 'status', 'attempts', 'failures', 'lease_owner', 'disturbed'] as const;
const JOB_STATE_COLUMNS = JOB_STATE.map((c) => `j.${c}`).join(', ');

/**
 * Everything completeJob judges a result by, in one round trip: the job (locked), its task, what
 * is stored under the result's id, and the measurement's device and pass. FOR UPDATE OF j: the
 * job's row lock orders every result of one job; a second waits, then reads the job as done.
 */
const JOB_FOR_RESULT = `SELECT ${JOB_STATE_COLUMNS}, t.level AS t_level, t.space AS t_space, t.key AS t_key,
    EXISTS (SELECT 1 FROM measurements WHERE id = $2) AS stored,
    (SELECT job_id FROM measurements WHERE id = $2) AS stored_job,
    EXISTS (SELECT 1 FROM devices WHERE id = $3) AS device_known,
    (SELECT device_id FROM passes WHERE id = $4) AS pass_owner
  FROM jobs j JOIN campaign_tasks t ON t.campaign_id = j.campaign_id AND t.idx = j.task_idx
  WHERE j.id = $1
  FOR UPDATE OF j`;

const MARK_DONE = `UPDATE jobs SET status = 'done', result_id = $2, done_at = $3, ${CLEAR_LEASE} WHERE id = $1 AND status <> 'done'`;

/** A result's measurement and its job marked done, in one statement (no row: the id was taken). */
const STORE_RESULT = `WITH ins AS (
    INSERT INTO measurements (${MEASUREMENT_COLUMNS.join(', ')})
    SELECT * FROM ${unnestOf(MEASUREMENT_COLUMNS, MEASUREMENT_TYPES)}
    ON CONFLICT (id) DO NOTHING RETURNING id
  )
  UPDATE jobs SET status = 'done', result_id = ins.id, done_at = $${MEASUREMENT_COLUMNS.length + 2}, ${CLEAR_LEASE}
  FROM ins WHERE jobs.id = $${MEASUREMENT_COLUMNS.length + 1} AND jobs.status <> 'done'
  RETURNING jobs.id`;

type JobForResultRow = Pick<JobRow, (typeof JOB_STATE)[number]> & {
  t_level: TaskIdentity['level'];
  t_space: string | null;
  t_key: string;
  stored: boolean;
  stored_job: string | null;
  device_known: boolean;
  pass_owner: string | null;
};

export async function completeJob(db: PgDb, r: NewResult): Promise<CompleteOutcome> {
  return db.tx('completeJob', async (c) => {
    const m = r.measurement;
    // named: prepared once per connection, planned once (the ingest path runs it per result)
    const { rows } = await c.query<JobForResultRow>({ name: 'hwlat_job_for_result', text: JOB_FOR_RESULT, values: [r.jobId, m.id, m.deviceId, m.passId] });
    const row = rows[0];
    const job = row === undefined ? undefined : jobStateFromRow(row);
    const task: TaskIdentity | undefined = row === undefined ? undefined : { level: row.t_level, space: row.t_space, key: row.t_key };
    const storedJobOfResult = row?.stored ? row.stored_job : undefined;
    const conflict = (reason: string): Error => new StoreConflictError('measurement', r.measurement.id, reason);
    /** the result id was stored by another transaction since the read above: judge it as what it now is */
    const storedMeanwhile = async (): Promise<CompleteOutcome> => {
      const { rows } = await c.query<{ job_id: string | null }>('SELECT job_id FROM measurements WHERE id = $1', [m.id]);
      if (rows[0]?.job_id === r.jobId) return 'duplicate';
      throw conflict(rows[0]?.job_id == null ? 'it is a measurement of no job' : `it completed job '${rows[0].job_id}'`);
    };
    if (judgeResult({ result: r, job, storedJobOfResult, task, conflict }) === 'duplicate') return 'duplicate';
    checkMeasurementReferences(
      [m],
      new Set(row!.device_known ? [m.deviceId] : []),
      new Map(row!.pass_owner === null ? [] : [[m.passId, row!.pass_owner]]),
      () => 'measurement',
    );
    // the usual result (not disturbed): the rules decide without the device's recent results, so
    // the measurement and the job's 'done' go in one statement (one round trip less per result)
    let askedRecent = false;
    const early = afterResult({ result: r, job: job!, recent: () => ((askedRecent = true), []) });
    if (!askedRecent && early.outcome === 'stored') {
      const res = await c.query({ name: 'hwlat_store_result', text: STORE_RESULT, values: [...columnsOf([measurementToRow(m)], MEASUREMENT_COLUMNS), r.jobId, r.now] });
      if (res.rowCount === 0) return storedMeanwhile();
      if (r.kernels !== undefined) await writeProfile(c, r.kernels, 'kernels');
      return 'stored';
    }
    const inserted = await writeMeasurements(c, [m]);
    if (inserted === 0) return storedMeanwhile();
    if (r.kernels !== undefined) await writeProfile(c, r.kernels, 'kernels');
    // afterResult consults the device's recent results only for a disturbed one; the query is
    // async, so it runs first, and only then (the result just written is among them)
    let recent: boolean[] = [];
    if (isDisturbed(r.measurement)) {
      const { rows } = await c.query<{ disturbed: boolean }>(
        'SELECT disturbed FROM measurements WHERE device_id = $1 ORDER BY seq DESC LIMIT $2',
        [r.deviceId, PERSISTENT_WINDOW],
      );
      recent = rows.map((x) => x.disturbed);
    }
    const final = afterResult({ result: r, job: job!, recent: () => recent });
    if (final.outcome === 'requeued') {
      await c.query(
        `UPDATE jobs SET status = 'queued', ${CLEAR_LEASE}, disturbed = disturbed + 1, not_before = $2 WHERE id = $1 AND status <> 'done'`,
        [r.jobId, final.notBefore],
      );
      return 'requeued';
    }
    await c.query({ name: 'hwlat_mark_done', text: MARK_DONE, values: [r.jobId, m.id, r.now] });
    return 'stored';
  });
}

export async function failJob(db: PgDb, input: FailJobInput): Promise<FailOutcome> {
  return db.tx('failJob', async (c) => {
    const row = await lockJob(c, input.jobId);
    const outcome = judgeFailure(input, row === undefined ? undefined : jobStateFromRow(row));
    await c.query(
      `UPDATE jobs SET status = 'queued', ${CLEAR_LEASE}, failures = failures + 1, last_error = $3
       WHERE id = $1 AND status = 'leased' AND lease_owner = $2`,
      [input.jobId, input.agentId, input.error],
    );
    return outcome;
  });
}

const JOB_DETAIL = `SELECT j.*, t.payload, c.request
  FROM jobs j
  JOIN campaign_tasks t ON t.campaign_id = j.campaign_id AND t.idx = j.task_idx
  JOIN campaigns c ON c.id = j.campaign_id`;

export async function getJob(db: PgDb, id: string): Promise<JobRecord | undefined> {
  const { rows } = await db.query<JobDetailRow>('getJob', `${JOB_DETAIL} WHERE j.id = $1`, [id]);
  return rows[0] === undefined ? undefined : jobFromRow(rows[0]);
}

/** WHERE clause of a (validated) job filter, columns qualified by `j.`. */
function where(f: JobFilter): { sql: string; params: unknown[] } {
  const terms: string[] = [];
  const params: unknown[] = [];
  if (f.campaignId !== undefined) (params.push(f.campaignId), terms.push(`j.campaign_id = $${params.length}`));
  if (f.deviceId !== undefined) (params.push(f.deviceId), terms.push(`j.device_id = $${params.length}`));
  // 'queued' is as stored (given-up jobs included); 'failed' is the given-up part of it
  if (f.status === 'failed') terms.push(`(j.status = 'queued' AND j.failures >= ${MAX_JOB_FAILURES})`);
  else if (f.status !== undefined) (params.push(f.status), terms.push(`j.status = $${params.length}`));
  return { sql: terms.length > 0 ? ` WHERE ${terms.join(' AND ')}` : '', params };
}

export async function listJobs(db: PgDb, f: JobFilter): Promise<JobRecord[]> {
  const q = where(f);
  let sql = `${JOB_DETAIL}${q.sql} ORDER BY c.created_at, c.id, j.task_idx, j.device_id`;
  if (f.limit !== undefined) (q.params.push(f.limit), (sql += ` LIMIT $${q.params.length}`));
  const { rows } = await db.query<JobDetailRow>('listJobs', sql, q.params);
  return rows.map(jobFromRow);
}

export async function countJobs(db: PgDb, f: JobFilter): Promise<number> {
  const q = where(f);
  const { rows } = await db.query<{ n: number }>('countJobs', `SELECT COUNT(*) AS n FROM jobs j${q.sql}`, q.params);
  return rows[0]!.n;
}
