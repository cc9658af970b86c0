import type { Campaign, CampaignProgress, JobTask } from '../../../protocol/index.ts';
import { MAX_JOB_FAILURES } from '../job-rules.ts';
import { checkCampaignDevices, checkSameCampaign } from '../references.ts';
import type { NewCampaign } from '../types.ts';
import type { PgDb, Queryable } from './db.ts';
import { campaignFromRow, type CampaignRow } from '../rows.ts';

// Campaigns, their tasks and the creation of their jobs on PostgreSQL (backend.ts).

const CAMPAIGN_COLUMNS = 'id, created_at, request, all_devices, tasks';

/**
 * Creating a campaign's jobs takes this advisory lock exclusively and creating a device's jobs
 * takes it shared, so the two never run side by side: without it a device registering on one
 * replica while another replica creates a campaign could miss the campaign's jobs (each
 * transaction blind to the other's uncommitted rows) until its next hello. Devices registering at
 * once share it (a fleet starting together is not serialised); two hellos of the same device (on
 * two replicas) are, by DEVICE_JOBS_LOCK on the device's id. SQLite needs neither: it has one writer.
 */
const JOBS_LOCK = 0x68776c6174 + 1;
/** the first key of the per-device lock (the two-key form: its own key space, apart from JOBS_LOCK's) */
const DEVICE_JOBS_LOCK = 0x68776c + 2;

/**
 * Creates the jobs of one campaign on every device it targets (all devices, or its listed ones).
 * Job ids are job-rules.jobId's `campaign:device:idx`, written in SQL; ON CONFLICT keeps existing
 * jobs and their state.
 */
const JOBS_FOR_CAMPAIGN = `INSERT INTO jobs (id, campaign_id, task_idx, device_id, created_at)
  SELECT t.campaign_id || ':' || d.id || ':' || t.idx, t.campaign_id, t.idx, d.id, $2
  FROM campaigns c JOIN campaign_tasks t ON t.campaign_id = c.id CROSS JOIN devices d
  WHERE c.id = $1
    AND (c.all_devices OR EXISTS (SELECT 1 FROM campaign_devices cd WHERE cd.campaign_id = c.id AND cd.device_id = d.id))
  ON CONFLICT DO NOTHING`;

async function storedTasks(c: Queryable, id: string): Promise<JobTask[]> {
  const { rows } = await c.query<{ payload: string }>('SELECT payload FROM campaign_tasks WHERE campaign_id = $1 ORDER BY idx', [id]);
  return rows.map((r) => JSON.parse(r.payload) as JobTask);
}

export async function createCampaign(db: PgDb, n: NewCampaign): Promise<Campaign> {
  return db.tx('createCampaign', async (c) => {
    const same = async (): Promise<Campaign> => {
      const { rows } = await c.query<CampaignRow>(`SELECT ${CAMPAIGN_COLUMNS} FROM campaigns WHERE id = $1`, [n.id]);
      const stored = campaignFromRow(rows[0]!);
      checkSameCampaign({ campaign: stored, tasks: await storedTasks(c, n.id) }, n);
      return stored; // the same campaign posted again
    };
    await c.query('SELECT pg_advisory_xact_lock($1)', [JOBS_LOCK]);
    const existing = await c.query('SELECT 1 FROM campaigns WHERE id = $1', [n.id]);
    if (existing.rowCount === 1) return same();
    if (n.devices !== null) {
      const known = await c.query<{ id: string }>('SELECT id FROM devices WHERE id = ANY($1::text[]) FOR SHARE', [n.devices]);
      checkCampaignDevices(n.devices, new Set(known.rows.map((r) => r.id)));
    }
    // two replicas posting the same id at once: the second's insert waits on the first's row lock,
    // then does nothing, and compares with what the first stored
    const inserted = await c.query(
      `INSERT INTO campaigns (${CAMPAIGN_COLUMNS}) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING`,
      [n.id, n.createdAt, JSON.stringify(n.request), n.devices === null, n.tasks.length],
    );
    if (inserted.rowCount === 0) return same();
    await c.query(
      `INSERT INTO campaign_tasks (campaign_id, idx, level, space, key, payload)
       SELECT $1, idx, level, space, key, payload FROM unnest($2::int[], $3::text[], $4::text[], $5::text[], $6::json[]) AS t(idx, level, space, key, payload)`,
      [n.id, n.tasks.map((_, i) => i), n.tasks.map((t) => t.level), n.tasks.map((t) => t.space), n.tasks.map((t) => t.key), n.tasks.map((t) => JSON.stringify(t))],
    );
    if (n.devices !== null && n.devices.length > 0) {
      await c.query('INSERT INTO campaign_devices (campaign_id, device_id) SELECT $1, unnest($2::text[])', [n.id, n.devices]);
    }
    await c.query(JOBS_FOR_CAMPAIGN, [n.id, n.now]);
    return { id: n.id, createdAt: n.createdAt, request: n.request, tasks: n.tasks.length };
  });
}

export async function getCampaign(db: PgDb, id: string): Promise<Campaign | undefined> {
  const { rows } = await db.query<CampaignRow>('getCampaign', `SELECT ${CAMPAIGN_COLUMNS} FROM campaigns WHERE id = $1`, [id]);
  return rows[0] === undefined ? undefined : campaignFromRow(rows[0]);
}

export async function listCampaigns(db: PgDb): Promise<Campaign[]> {
  const { rows } = await db.query<CampaignRow>('listCampaigns', `SELECT ${CAMPAIGN_COLUMNS} FROM campaigns ORDER BY created_at DESC, id DESC`);
  return rows.map(campaignFromRow);
}

/** The buckets of job-rules.progressBucket, counted in SQL. */
export async function campaignProgress(db: PgDb, id: string, now: number): Promise<CampaignProgress[] | undefined> {
  // one statement is one snapshot: the existence check and the counts agree
  const { rows } = await db.query<CampaignProgress & { exists: boolean }>(
    'campaignProgress',
    `SELECT EXISTS (SELECT 1 FROM campaigns WHERE id = $1) AS exists, p.*
     FROM (SELECT 1) AS one LEFT JOIN (
       SELECT device_id AS "deviceId",
              COUNT(*)::int AS total,
              COUNT(*) FILTER (WHERE (status = 'queued' AND failures < ${MAX_JOB_FAILURES}) OR (status = 'leased' AND lease_expires_at <= $2))::int AS queued,
              COUNT(*) FILTER (WHERE status = 'leased' AND lease_expires_at > $2)::int AS leased,
              COUNT(*) FILTER (WHERE status = 'done')::int AS done,
              COUNT(*) FILTER (WHERE status = 'queued' AND failures >= ${MAX_JOB_FAILURES})::int AS failed
       FROM jobs WHERE campaign_id = $1 GROUP BY device_id
     ) AS p ON TRUE
     ORDER BY p."deviceId"`,
    [id, now],
  );
  if (!rows[0]?.exists) return undefined;
  return rows
    .filter((r) => r.deviceId !== null)
    .map((r) => ({ deviceId: r.deviceId, total: r.total, queued: r.queued, leased: r.leased, done: r.done, failed: r.failed }));
}

export async function ensureJobsForDevice(db: PgDb, deviceId: string, now: string): Promise<number | undefined> {
  return db.tx('ensureJobsForDevice', async (c) => {
    await c.query('SELECT pg_advisory_xact_lock_shared($1), pg_advisory_xact_lock($2, hashtext($3))', [JOBS_LOCK, DEVICE_JOBS_LOCK, deviceId]);
    const device = await c.query('SELECT 1 FROM devices WHERE id = $1 FOR SHARE', [deviceId]);
    if (device.rowCount === 0) return undefined;
    // campaigns whose jobs the device already has in full are skipped, as in SQLite
    const res = await c.query(
      `INSERT INTO jobs (id, campaign_id, task_idx, device_id, created_at)
       SELECT t.campaign_id || ':' || $1 || ':' || t.idx, t.campaign_id, t.idx, $1, $2
       FROM campaigns c JOIN campaign_tasks t ON t.campaign_id = c.id
       WHERE (c.all_devices OR EXISTS (SELECT 1 FROM campaign_devices cd WHERE cd.campaign_id = c.id AND cd.device_id = $1))
         AND (SELECT COUNT(*) FROM jobs j WHERE j.device_id = $1 AND j.campaign_id = c.id) < c.tasks
       ON CONFLICT DO NOTHING`,
      [deviceId, now],
    );
    return res.rowCount ?? 0;
  });
}
