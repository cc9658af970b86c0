// An agent given two collectors finishes a campaign after the one it uses is SIGKILLed mid-run.
// Real processes on 127.0.0.1: two `hwlat serve` replicas on one database, and one
// `hwlat agent --collector A,B`. The database is a SQLite file both open (for the agent, replicas
// are replicas: any one knows every job), then a real PostgreSQL (tests/helpers/postgres.ts; the
// test skips, saying why, without one).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { getJson, spawnHwlat, startServe, until, type HwlatProcess } from '../helpers/procs.ts';
import { testPostgres } from '../helpers/postgres.ts';

const TOKEN = 'failover-secret-0123456789';
const dir = mkdtempSync(join(tmpdir(), 'hwlat-failover-'));
const procs: HwlatProcess[] = [];
after(async () => {
  for (const p of procs) p.kill('SIGKILL');
  await Promise.all(procs.map((p) => p.exited));
  rmSync(dir, { recursive: true, force: true });
});

const QUICK = { batch: 1, warmup: 1, minRepeats: 3, minTimeMs: 0 };
const pgt = await testPostgres();

interface Rows {
  jobs(campaignId: string): Promise<Array<{ id: string; status: string; result_id: string | null }>>;
  measurements(): Promise<Array<{ id: string; job_id: string; disturbed: boolean }>>;
  close(): Promise<void>;
}

function sqliteRows(file: string): Rows {
  const sql = new Database(file, { readonly: true, fileMustExist: true });
  return {
    jobs: async (campaignId) => sql.prepare('SELECT id, status, result_id FROM jobs WHERE campaign_id = ?').all(campaignId) as never,
    measurements: async () =>
      (sql.prepare('SELECT id, job_id, disturbed FROM measurements WHERE job_id IS NOT NULL').all() as Array<{ id: string; job_id: string; disturbed: number }>).map((m) => ({ ...m, disturbed: m.disturbed !== 0 })),
    close: async () => void sql.close(),
  };
}

async function postgresRows(url: string): Promise<Rows> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return {
    jobs: async (campaignId) => (await client.query('SELECT id, status, result_id FROM jobs WHERE campaign_id = $1', [campaignId])).rows,
    measurements: async () => (await client.query('SELECT id, job_id, disturbed FROM measurements WHERE job_id IS NOT NULL')).rows,
    close: () => client.end(),
  };
}

test('replicas on one SQLite file: the collector in use dies mid-campaign, the agent fails over, every job ends with exactly one result', { timeout: 240_000 }, async () => {
  const db = join(dir, 'replicas.sqlite');
  await failover(db, () => sqliteRows(db));
});

test('replicas on one PostgreSQL: the same', { timeout: 240_000, skip: pgt.skip }, async () => {
  const db = await pgt.createDatabase();
  await failover(db, () => postgresRows(db));
});

async function failover(db: string, rowsOf: () => Rows | Promise<Rows>): Promise<void> {
  const a = await startServe({ db, token: TOKEN });
  procs.push(a.proc);
  const b = await startServe({ db, token: TOKEN });
  procs.push(b.proc);

  const res = await getJson(`${a.url}/api/campaigns`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ space: 'nasbench201', ops: true, maxOps: 4, networks: 4, settings: QUICK }),
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const campaign = res.body as { id: string; tasks: number };

  const agent = spawnHwlat(
    ['agent', '--collector', `${a.wsUrl},${b.wsUrl}`, '--token', TOKEN, '--threads', '1', '--state-dir', join(dir, 'agent'), '--max-jobs', '2', '--log-json'],
    'agent',
  );
  procs.push(agent);
  const start = await agent.waitFor((e) => e.event === 'start');
  assert.deepEqual(start.collectors, [a.wsUrl, b.wsUrl]);
  assert.equal((await agent.waitFor((e) => e.event === 'connected')).url, a.wsUrl);

  // the first result acknowledged by a, then a dies without a word (no close frame, no release)
  await agent.waitFor((e) => e.event === 'ack', 120_000);
  a.proc.kill('SIGKILL');
  await a.proc.exited;
  const progressAt = async (url: string) => {
    const r = await getJson(`${url}/api/campaigns/${campaign.id}`);
    return r.body.progress as Array<{ total: number; done: number; failed: number }>;
  };
  const atKill = (await progressAt(b.url))[0];
  assert.ok(atKill && atKill.done < atKill.total, `the campaign was still running when a died (${JSON.stringify(atKill)})`);

  const failover = await agent.waitFor((e) => e.event === 'failover', 30_000);
  assert.deepEqual({ from: failover.from, to: failover.to }, { from: a.wsUrl, to: b.wsUrl });
  await agent.waitFor((e) => e.event === 'connected' && e.url === b.wsUrl, 30_000);
  await until(async () => {
    const p = (await progressAt(b.url))[0];
    return p !== undefined && p.done === p.total;
  }, 180_000, 'the campaign finished on b');

  // the agent stops cleanly on b with nothing left in its outbox
  agent.kill('SIGTERM');
  const stopped = await agent.waitFor((e) => e.event === 'stopped', 30_000);
  assert.equal(stopped.pending, 0);
  assert.equal(stopped.error, undefined);
  assert.ok(!agent.events.some((e) => e.event === 'result_dropped'), 'no result was refused for good');

  // exactly once, in the database both replicas wrote: every job done with one completing
  // measurement; any other measurement of a job is a disturbed one, kept marked
  const rows = await rowsOf();
  try {
    const jobs = await rows.jobs(campaign.id);
    assert.equal(jobs.length, campaign.tasks);
    for (const j of jobs) assert.equal(j.status, 'done', `job ${j.id}`);
    const measured = await rows.measurements();
    const completing = new Set(jobs.map((j) => j.result_id));
    for (const m of measured) if (!completing.has(m.id)) assert.equal(m.disturbed, true, `measurement ${m.id} of job ${m.job_id} neither completed it nor is marked disturbed`);
    const completed = measured.filter((m) => completing.has(m.id)).map((m) => m.job_id);
    assert.equal(completed.length, jobs.length);
    assert.equal(new Set(completed).size, jobs.length, 'no job has two completing measurements');
  } finally {
    await rows.close();
  }
  // what the agent measured was all acknowledged, on one collector or the other
  const results = new Set(agent.events.filter((e) => e.event === 'result').map((e) => e.resultId as string));
  const acked = new Set(agent.events.filter((e) => e.event === 'ack').flatMap((e) => e.resultIds as string[]));
  for (const id of results) assert.ok(acked.has(id), `result ${id} was acknowledged`);
  b.proc.kill('SIGTERM');
  await b.proc.exited;
}
