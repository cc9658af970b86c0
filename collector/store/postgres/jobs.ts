import type { Job, JobTask, MeasureSettings, CampaignRequest } from '../../../protocol/index.ts';
import { StoreConflictError, StoreJobStateError, StoreNotFoundError, StoreReferenceError, StoreUnavailableError, StoreValidationError } from '../errors.ts';
import { checkMeasurementReferences } from '../references.ts';
import { MAX_JOB_FAILURES, PERSISTENT_WINDOW, afterResult, isDisturbed, judgeFailure, judgeResult } from '../job-rules.ts';
import type {
  CompleteOutcome,
  ExtendLeasesOptions,
  FailJobInput,
  FailOutcome,
  JobFilter,
  JobRecord,
  JobState,
  LeaseOptions,
  NewResult,
  ReleaseLeasesOptions,
  TaskIdentity,
} from '../types.ts';
import type { PgDb, Queryable } from './db.ts';
import { writeProfile } from './kernel-profiles.ts';
import { writeMeasurements } from './measurements.ts';
import { MEASUREMENT_COLUMNS, jobFromRow, jobStateFromRow, measurementToRow, type JobDetailRow, type JobRow } from '../rows.ts';
import { MEASUREMENT_TYPES, columnsOf, unnestOf } from './unnest.ts';

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
 * job-rules.isLeasable in SQL, oldest campaign first, then task order, leased and returned with
 * each job's task and campaign request in one statement. Campaigns are walked in order
 * (campaigns_created) and, per campaign, the device's queued jobs in task order along
 * jobs_device_status, so a lease reads about `max` rows instead of sorting every queued job of the
 * device (docs/benchmarks.md, issue 17). FOR UPDATE SKIP LOCKED: two replicas leasing for the same
 * device at once each take different jobs; a job whose row changed after this statement's snapshot
 * (leased and committed by another replica) is re-checked against the WHERE clause under the lock
 * and dropped. The LIMIT stops the walk: a row the outer query does not take is never locked.
 */
const PICK_AND_LEASE = `WITH picked AS (
    SELECT p.id FROM campaigns c CROSS JOIN LATERAL (
      SELECT j.id FROM jobs j
      WHERE j.device_id = $1 AND j.status = 'queued' AND j.campaign_id = c.id
        AND j.failures < ${MAX_JOB_FAILURES} AND (j.not_before IS NULL OR j.not_before <= $2)
      ORDER BY j.task_idx
      LIMIT $3
      FOR UPDATE SKIP LOCKED
    ) p
    ORDER BY c.created_at, c.id
    LIMIT $3
  )
  UPDATE jobs j SET status = 'leased', lease_id = $4, lease_owner = $5, lease_expires_at = $6, attempts = j.attempts + 1
  FROM picked, campaign_tasks t, campaigns c
  WHERE j.id = picked.id AND t.campaign_id = j.campaign_id AND t.idx = j.task_idx AND c.id = j.campaign_id
  RETURNING j.id, j.campaign_id, j.task_idx, c.created_at, t.payload, c.request`;

interface LeasedRow {
  id: string;
  campaign_id: string;
  task_idx: number;
  created_at: string;
  payload: string;
  request: string;
}

/** Leasing order (RETURNING has none): oldest campaign first, then task order. */
function leasingOrder(a: LeasedRow, b: LeasedRow): number {
  if (a.created_at !== b.created_at) return a.created_at < b.created_at ? -1 : 1;
  if (a.campaign_id !== b.campaign_id) return a.campaign_id < b.campaign_id ? -1 : 1;
  return a.task_idx - b.task_idx;
}

export async function leaseJobs(db: PgDb, o: LeaseOptions, leaseId: string): Promise<Job[]> {
  return db.tx('leaseJobs', async (c) => {
    await expire(c, o.now);
    const { rows } = await c.query<LeasedRow>({ name: 'hwlat_pick_and_lease', text: PICK_AND_LEASE, values: [o.deviceId, o.now, o.max, leaseId, o.agentId, o.now + o.ttlMs] });
    const settings = new Map<string, MeasureSettings>();
    return rows.sort(leasingOrder).map((r) => {
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

/** the judged result's job, or 'duplicate' (write nothing); throws what job-rules and references throw */
function judge(r: NewResult, row: JobForResultRow | undefined): JobState | 'duplicate' {
  const m = r.measurement;
  const job = row === undefined ? undefined : jobStateFromRow(row);
  const task: TaskIdentity | undefined = row === undefined ? undefined : { level: row.t_level, space: row.t_space, key: row.t_key };
  const storedJobOfResult = row?.stored ? row.stored_job : undefined;
  const conflict = (reason: string): Error => new StoreConflictError('measurement', m.id, reason);
  if (judgeResult({ result: r, job, storedJobOfResult, task, conflict }) === 'duplicate') return 'duplicate';
  checkMeasurementReferences(
    [m],
    new Set(row!.device_known ? [m.deviceId] : []),
    new Map(row!.pass_owner === null ? [] : [[m.passId, row!.pass_owner]]),
    () => 'measurement',
  );
  return job!;
}

/**
 * Whether the rules complete the job without the device's recent results (the usual result: not
 * disturbed), so its measurement and the job's 'done' can go in one statement.
 */
function completesAtOnce(r: NewResult, job: JobState): boolean {
  let askedRecent = false;
  const early = afterResult({ result: r, job, recent: () => ((askedRecent = true), []) });
  return !askedRecent && early.outcome === 'stored';
}

/** the result id was stored by another transaction since the job was read: judge it as what it now is */
async function storedMeanwhile(c: Queryable, r: NewResult): Promise<CompleteOutcome> {
  const { rows } = await c.query<{ job_id: string | null }>('SELECT job_id FROM measurements WHERE id = $1', [r.measurement.id]);
  if (rows[0]?.job_id === r.jobId) return 'duplicate';
  const reason = rows[0]?.job_id == null ? 'it is a measurement of no job' : `it completed job '${rows[0].job_id}'`;
  throw new StoreConflictError('measurement', r.measurement.id, reason);
}

/** A result judged 'store' (its job locked), written: measurement, kernels, then done or requeued. */
async function write(c: Queryable, r: NewResult, job: JobState): Promise<CompleteOutcome> {
  const m = r.measurement;
  if (completesAtOnce(r, job)) {
    const res = await c.query({ name: 'hwlat_store_result', text: STORE_RESULT, values: [...columnsOf([measurementToRow(m)], MEASUREMENT_COLUMNS), r.jobId, r.now] });
    if (res.rowCount === 0) return storedMeanwhile(c, r);
    if (r.kernels !== undefined) await writeProfile(c, r.kernels, 'kernels');
    return 'stored';
  }
  const inserted = await writeMeasurements(c, [m]);
  if (inserted === 0) return storedMeanwhile(c, r);
  if (r.kernels !== undefined) await writeProfile(c, r.kernels, 'kernels');
  // afterResult consults the device's recent results only for a disturbed one; the query is
  // async, so it runs first, and only then (the result just written is among them)
  let recent: boolean[] = [];
  if (isDisturbed(m)) {
    const { rows } = await c.query<{ disturbed: boolean }>(
      'SELECT disturbed FROM measurements WHERE device_id = $1 ORDER BY seq DESC LIMIT $2',
      [r.deviceId, PERSISTENT_WINDOW],
    );
    recent = rows.map((x) => x.disturbed);
  }
  const final = afterResult({ result: r, job, recent: () => recent });
  if (final.outcome === 'requeued') {
    await c.query(
      `UPDATE jobs SET status = 'queued', ${CLEAR_LEASE}, disturbed = disturbed + 1, not_before = $2 WHERE id = $1 AND status <> 'done'`,
      [r.jobId, final.notBefore],
    );
    return 'requeued';
  }
  await c.query({ name: 'hwlat_mark_done', text: MARK_DONE, values: [r.jobId, m.id, r.now] });
  return 'stored';
}

export async function completeJob(db: PgDb, r: NewResult): Promise<CompleteOutcome> {
  return db.tx('completeJob', async (c) => {
    const m = r.measurement;
    // named: prepared once per connection, planned once (the ingest path runs it per result)
    const { rows } = await c.query<JobForResultRow>({ name: 'hwlat_job_for_result', text: JOB_FOR_RESULT, values: [r.jobId, m.id, m.deviceId, m.passId] });
    const job = judge(r, rows[0]);
    return job === 'duplicate' ? 'duplicate' : write(c, r, job);
  });
}

/**
 * JOB_FOR_RESULT for a list of results in one round trip, one row per result in the given order
 * (ord, from 1; the job's columns null for an unknown job). The jobs are locked in id order, so
 * two replicas completing overlapping lists cannot deadlock.
 */
const JOBS_FOR_RESULTS = `WITH r AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS r(job_id, result_id, device_id, pass_id, ord)
  ), locked AS MATERIALIZED (
    SELECT ${JOB_STATE_COLUMNS}, t.level AS t_level, t.space AS t_space, t.key AS t_key
    FROM jobs j JOIN campaign_tasks t ON t.campaign_id = j.campaign_id AND t.idx = j.task_idx
    WHERE j.id = ANY($1::text[])
    ORDER BY j.id
    FOR UPDATE OF j
  )
  SELECT r.ord, l.*,
    m.id IS NOT NULL AS stored, m.job_id AS stored_job,
    EXISTS (SELECT 1 FROM devices WHERE id = r.device_id) AS device_known,
    (SELECT device_id FROM passes WHERE id = r.pass_id) AS pass_owner
  FROM r LEFT JOIN locked l ON l.id = r.job_id LEFT JOIN measurements m ON m.id = r.result_id
  ORDER BY r.ord`;

/**
 * Results' measurements and their jobs marked done, in one statement; returns the ids of the jobs
 * it marked (a result whose id was taken inserts nothing and marks nothing). Parameters: the
 * measurement columns, then the result ids and their doneAt.
 */
const STORE_RESULTS = `WITH ins AS (
    INSERT INTO measurements (${MEASUREMENT_COLUMNS.join(', ')})
    SELECT * FROM ${unnestOf(MEASUREMENT_COLUMNS, MEASUREMENT_TYPES)}
    ON CONFLICT (id) DO NOTHING RETURNING id, job_id
  )
  UPDATE jobs SET status = 'done', result_id = ins.id, done_at = x.done_at, ${CLEAR_LEASE}
  FROM ins JOIN unnest($${MEASUREMENT_COLUMNS.length + 1}::text[], $${MEASUREMENT_COLUMNS.length + 2}::bigint[]) AS x(result_id, done_at) ON x.result_id = ins.id
  WHERE jobs.id = ins.job_id AND jobs.status <> 'done'
  RETURNING jobs.id`;

/** An error the rules threw (judged from rows already read): the transaction is intact. */
function isRuleError(e: unknown): e is Error {
  return (
    e instanceof StoreValidationError || e instanceof StoreNotFoundError || e instanceof StoreJobStateError ||
    e instanceof StoreConflictError || e instanceof StoreReferenceError
  );
}

/** Several results in one transaction: one read of their jobs, one write for the usual ones. */
async function completeInOne(c: Queryable, results: readonly NewResult[]): Promise<Array<CompleteOutcome | Error>> {
  const ms = results.map((r) => r.measurement);
  const { rows } = await c.query<JobForResultRow & { ord: string }>({
    name: 'hwlat_jobs_for_results',
    text: JOBS_FOR_RESULTS,
    values: [results.map((r) => r.jobId), ms.map((m) => m.id), ms.map((m) => m.deviceId), ms.map((m) => m.passId)],
  });
  const out: Array<CompleteOutcome | Error | undefined> = [];
  const atOnce: number[] = [];
  const later: Array<[number, JobState]> = [];
  results.forEach((r, i) => {
    const row = rows[i]!;
    try {
      const job = judge(r, row.id === null ? undefined : row);
      if (job === 'duplicate') out[i] = 'duplicate';
      else if (completesAtOnce(r, job)) atOnce.push(i);
      else later.push([i, job]);
    } catch (e) {
      if (!isRuleError(e)) throw e;
      out[i] = e;
    }
  });
  if (atOnce.length > 0) {
    const batch = atOnce.map((i) => results[i]!);
    // a result id's doneAt is its first sending's (the insert keeps the first row of an id)
    const doneAt = new Map<string, number>();
    for (const r of batch) if (!doneAt.has(r.measurement.id)) doneAt.set(r.measurement.id, r.now);
    const res = await c.query<{ id: string }>({
      name: 'hwlat_store_results',
      text: STORE_RESULTS,
      values: [...columnsOf(batch.map((r) => measurementToRow(r.measurement)), MEASUREMENT_COLUMNS), [...doneAt.keys()], [...doneAt.values()]],
    });
    // each job marked done is the first of its results here; a later one (the same result sent
    // twice in one message) is judged against what is now stored
    const marked = new Set(res.rows.map((x) => x.id));
    for (const i of atOnce) {
      const r = results[i]!;
      if (marked.delete(r.jobId)) {
        if (r.kernels !== undefined) await writeProfile(c, r.kernels, 'kernels');
        out[i] = 'stored';
        continue;
      }
      try {
        out[i] = await storedMeanwhile(c, r);
      } catch (e) {
        if (!isRuleError(e)) throw e;
        out[i] = e;
      }
    }
  }
  // disturbed results, one at a time: the requeue rule reads the device's recent results
  for (const [i, job] of later) {
    try {
      out[i] = await write(c, results[i]!, job);
    } catch (e) {
      if (!isRuleError(e)) throw e;
      out[i] = e;
    }
  }
  return out as Array<CompleteOutcome | Error>;
}

export async function completeJobs(db: PgDb, results: readonly NewResult[]): Promise<Array<CompleteOutcome | Error>> {
  /** one result in its own transaction, its refusal as its outcome */
  const alone = async (r: NewResult): Promise<CompleteOutcome | Error> => {
    try {
      return await completeJob(db, r);
    } catch (e) {
      if (e instanceof StoreUnavailableError || !(e instanceof Error)) throw e;
      return e;
    }
  };
  if (results.length === 1) return [await alone(results[0]!)];
  try {
    return await db.tx('completeJobs', (c) => completeInOne(c, results));
  } catch (e) {
    if (e instanceof StoreUnavailableError) throw e;
    // a statement failed (a result id or a job's result written by another collector in between,
    // a row deleted by hand): the transaction is lost, so each result is tried alone, and only
    // the one at fault is refused
    const out: Array<CompleteOutcome | Error> = [];
    for (const r of results) out.push(await alone(r));
    return out;
  }
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
