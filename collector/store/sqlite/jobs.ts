import type { Database as SqliteDb, Statement } from 'better-sqlite3';
import type { Campaign, CampaignProgress, CampaignRequest, Job, JobTask } from '../../../protocol/index.ts';
import { MAX_JOB_FAILURES } from '../job-rules.ts';
import { campaignFromRow, jobFromRow, jobStateFromRow, type CampaignRow, type JobDetailRow, type JobRow } from '../rows.ts';
import type {
  ExtendLeasesOptions,
  JobFilter,
  JobRecord,
  JobState,
  LeaseOptions,
  NewCampaign,
  ReleaseLeasesOptions,
  TaskIdentity,
} from '../types.ts';

// Campaigns and their jobs, the SQLite way: statements prepared once; the backend runs them inside
// its transactions with validated arguments and decides with the rules of job-rules.ts. The SQL
// below selects what job-rules.ts describes (isLeasable, leaseExpired, progressBucket).

interface TaskRow {
  level: 'op' | 'network';
  space: string | null;
  key: string;
}

export class CampaignJobTables {
  readonly #db: SqliteDb;
  readonly #stmts: {
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
    jobState: Statement<[string], JobRow>;
    expireLeases: Statement<[number]>;
    campaignsWithQueued: Statement<[{ deviceId: string; now: number }], { id: string; request: string }>;
    queuedJobs: Statement<[{ deviceId: string; campaignId: string; limit: number; now: number }], { id: string; payload: string }>;
    markDisturbed: Statement<[{ id: string; notBefore: number }]>;
    leaseJob: Statement<[{ id: string; leaseId: string; agentId: string; expiresAt: number }]>;
    extendAll: Statement<[{ agentId: string; expiresAt: number; now: number }]>;
    extendSome: Statement<[{ agentId: string; expiresAt: number; now: number; leaseIds: string }]>;
    releaseAll: Statement<[{ agentId: string }]>;
    releaseSome: Statement<[{ agentId: string; leaseIds: string }]>;
    markDone: Statement<[{ id: string; resultId: string; now: number }]>;
    markFailed: Statement<[{ id: string; agentId: string; error: string }]>;
  };
  /** filter shape → statement */
  readonly #filterStmts = new Map<string, Statement<[Record<string, unknown>], unknown>>();

  constructor(db: SqliteDb) {
    this.#db = db;
    this.#stmts = {
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
      jobState: db.prepare('SELECT * FROM jobs WHERE id = ?'),
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

  #statement(sql: string): Statement<[Record<string, unknown>], unknown> {
    let stmt = this.#filterStmts.get(sql);
    if (stmt === undefined) {
      stmt = this.#db.prepare<[Record<string, unknown>], unknown>(sql);
      this.#filterStmts.set(sql, stmt);
    }
    return stmt;
  }

  getCampaign(id: string): Campaign | undefined {
    const row = this.#stmts.getCampaign.get(id);
    return row === undefined ? undefined : campaignFromRow(row);
  }

  /** the campaign's tasks, in order */
  tasks(id: string): JobTask[] {
    return this.#stmts.taskPayloads.all(id).map((p) => JSON.parse(p) as JobTask);
  }

  listCampaigns(): Campaign[] {
    return this.#stmts.listCampaigns.all().map(campaignFromRow);
  }

  /** Stores a new campaign, its tasks and its jobs for every matching device (devices checked). */
  insertCampaign(c: NewCampaign): Campaign {
    this.#stmts.insertCampaign.run({
      id: c.id,
      createdAt: c.createdAt,
      request: JSON.stringify(c.request),
      allDevices: c.devices === null ? 1 : 0,
      tasks: c.tasks.length,
    });
    c.tasks.forEach((task, idx) => {
      this.#stmts.insertTask.run({ campaignId: c.id, idx, level: task.level, space: task.space, key: task.key, payload: JSON.stringify(task) });
    });
    for (const deviceId of c.devices ?? []) this.#stmts.insertCampaignDevice.run(c.id, deviceId);
    this.#stmts.jobsForCampaign.run({ campaignId: c.id, now: c.now });
    return { id: c.id, createdAt: c.createdAt, request: c.request, tasks: c.tasks.length };
  }

  progress(campaignId: string, now: number): CampaignProgress[] {
    return this.#stmts.progress.all({ campaignId, now });
  }

  /** Creates the device's missing jobs of every campaign that targets it; returns how many. */
  ensureJobsForDevice(deviceId: string, now: string): number {
    let created = 0;
    for (const campaignId of this.#stmts.campaignsMissingJobs.all({ deviceId })) {
      created += this.#stmts.jobsForDevice.run({ deviceId, campaignId, now }).changes;
    }
    return created;
  }

  jobState(id: string): JobState | undefined {
    const r = this.#stmts.jobState.get(id);
    return r === undefined ? undefined : jobStateFromRow(r);
  }

  task(campaignId: string, idx: number): TaskIdentity | undefined {
    return this.#stmts.getTask.get(campaignId, idx);
  }

  expireLeases(now: number): number {
    return this.#stmts.expireLeases.run(now).changes;
  }

  /** Leases up to `max` leasable jobs of the device (inside the caller's IMMEDIATE transaction). */
  lease(o: LeaseOptions, leaseId: string): Job[] {
    const expiresAt = o.now + o.ttlMs;
    const jobs: Job[] = [];
    for (const campaign of this.#stmts.campaignsWithQueued.all({ deviceId: o.deviceId, now: o.now })) {
      if (jobs.length >= o.max) break;
      const settings = (JSON.parse(campaign.request) as CampaignRequest).settings;
      for (const row of this.#stmts.queuedJobs.all({ deviceId: o.deviceId, campaignId: campaign.id, limit: o.max - jobs.length, now: o.now })) {
        this.#stmts.leaseJob.run({ id: row.id, leaseId, agentId: o.agentId, expiresAt });
        jobs.push({ id: row.id, campaignId: campaign.id, task: JSON.parse(row.payload) as JobTask, settings: { ...settings } });
      }
    }
    return jobs;
  }

  extend(o: ExtendLeasesOptions): number {
    const params = { agentId: o.agentId, expiresAt: o.expiresAt, now: o.now };
    if (o.leaseIds === undefined) return this.#stmts.extendAll.run(params).changes;
    return this.#stmts.extendSome.run({ ...params, leaseIds: JSON.stringify(o.leaseIds) }).changes;
  }

  release(o: ReleaseLeasesOptions): number {
    if (o.leaseIds === undefined) return this.#stmts.releaseAll.run({ agentId: o.agentId }).changes;
    return this.#stmts.releaseSome.run({ agentId: o.agentId, leaseIds: JSON.stringify(o.leaseIds) }).changes;
  }

  markDone(id: string, resultId: string, now: number): void {
    this.#stmts.markDone.run({ id, resultId, now });
  }

  requeueDisturbed(id: string, notBefore: number): void {
    this.#stmts.markDisturbed.run({ id, notBefore });
  }

  markFailed(id: string, agentId: string, error: string): void {
    this.#stmts.markFailed.run({ id, agentId, error });
  }

  getJob(id: string): JobRecord | undefined {
    const row = this.#stmts.getJob.get(id);
    return row === undefined ? undefined : jobFromRow(row);
  }

  /** The WHERE clause and parameters of a job filter (columns qualified by `j.`). */
  #jobFilter(f: JobFilter): { where: string; params: Record<string, unknown> } {
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
    return { where: terms.length > 0 ? ` WHERE ${terms.join(' AND ')}` : '', params };
  }

  listJobs(f: JobFilter): JobRecord[] {
    const q = this.#jobFilter(f);
    let sql = `SELECT j.*, t.payload, c.request
      FROM jobs j
      JOIN campaign_tasks t ON t.campaign_id = j.campaign_id AND t.idx = j.task_idx
      JOIN campaigns c ON c.id = j.campaign_id${q.where}
      ORDER BY c.created_at, c.id, j.task_idx, j.device_id`;
    if (f.limit !== undefined) {
      sql += ' LIMIT @limit';
      q.params.limit = f.limit;
    }
    return (this.#statement(sql).all(q.params) as JobDetailRow[]).map(jobFromRow);
  }

  /** matching rows, not capped by `limit` */
  countJobs(f: JobFilter): number {
    const q = this.#jobFilter(f);
    return (this.#statement(`SELECT COUNT(*) AS n FROM jobs j${q.where}`).get(q.params) as { n: number }).n;
  }
}
