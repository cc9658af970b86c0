// Two collector replicas on one real PostgreSQL, several agents spread over both, one replica
// SIGKILLed twice mid-campaign and restarted in between: every job ends with exactly one result,
// none lost (acknowledged but not stored), none duplicated.
//
// failover.test.ts runs the real `hwlat agent` through one kill; here the agents are simulated
// (tests/helpers/sim-agent.ts: real ws clients that fail over as hwlat agent does, with no model
// to run), so there can be several of them, two kills and lease expiry within seconds. Agents
// stay on the replica they failed over to, so the second kill finds agents on the restarted
// replica because a second group of devices joins after the first restart (spread over both).
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import pg from 'pg';
import { testPostgres } from '../helpers/postgres.ts';
import { freePort, getJson, startServe, until, type HwlatProcess } from '../helpers/procs.ts';
import { runSimAgent, type SimAgentReport } from '../helpers/sim-agent.ts';

const TOKEN = 'replicas-kill-secret-0123456789';
/** a lease whose reply died with its replica comes back to the queue this soon */
const LEASE_TTL_MS = 3000;
const TASKS = 40;
const pgt = await testPostgres();

const procs: HwlatProcess[] = [];
after(async () => {
  for (const p of procs) p.kill('SIGKILL');
  await Promise.all(procs.map((p) => p.exited));
});

test('two replicas on one PostgreSQL, one SIGKILLed twice mid-campaign: every job has exactly one result, none lost', { timeout: 150_000, skip: pgt.skip }, async () => {
  const db = await pgt.createDatabase();
  const serve = async (port: number) => {
    const s = await startServe({ db, token: TOKEN, port, leaseTtlMs: LEASE_TTL_MS });
    procs.push(s.proc);
    return s;
  };
  let a = await serve(await freePort());
  const b = await serve(await freePort());

  const created = await getJson(`${b.url}/api/campaigns`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ space: 'nasbench201', networks: TASKS, devices: 'all' }),
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const campaignId = created.body.id as string;

  let done = false;
  const where = new Map<string, string>(); // device → the ws URL its agent uses now
  const agents: Array<Promise<SimAgentReport>> = [];
  const startAgents = (first: number, count: number) => {
    for (let i = first; i < first + count; i++) {
      const deviceId = `dev-${i.toString(16).padStart(12, '0')}`;
      // even devices start on a, odd ones on b; each knows both
      const urls = i % 2 === 0 ? [a.wsUrl, b.wsUrl] : [b.wsUrl, a.wsUrl];
      agents.push(
        runSimAgent({
          urls, token: TOKEN, deviceId, batch: 2, measureMs: 100, heartbeatMs: 1000,
          stop: () => done,
          onConnect: (url) => where.set(deviceId, url),
        }),
      );
    }
  };
  // the agents now on a have results stored, and work left
  const progressOn = async (urlOf: () => string, what: string) => {
    const progress = async () => (await getJson(`${b.url}/api/campaigns/${campaignId}`)).body.progress as Array<{ deviceId: string; done: number; total: number }>;
    await until(async () => {
      const on = [...where].filter(([, url]) => url === urlOf()).map(([d]) => d);
      const rows = (await progress()).filter((p) => on.includes(p.deviceId));
      return rows.length > 0 && rows.every((p) => p.done > 0) && rows.some((p) => p.done < p.total);
    }, 60_000, what);
  };
  const killA = async () => {
    const onA = [...where].filter(([, url]) => url === a.wsUrl).length;
    assert.ok(onA > 0, 'agents are on the replica about to be killed');
    a.proc.kill('SIGKILL');
    await a.proc.exited;
    a = await serve(a.port);
    return onA;
  };

  startAgents(1, 4);
  await progressOn(() => a.wsUrl, "results from a's first agents");
  const firstKill = await killA();
  // a second group of devices joins (half of them on a, back from the dead)
  startAgents(5, 4);
  await until(() => [...where.values()].filter((u) => u === a.wsUrl).length === 2, 60_000, 'two new agents connected to the restarted a');
  await progressOn(() => a.wsUrl, "results from the agents on the restarted a");
  const secondKill = await killA();

  const total = 8 * TASKS;
  await until(async () => {
    const rows = (await getJson(`${b.url}/api/campaigns/${campaignId}`)).body.progress as Array<{ done: number }>;
    return rows.reduce((s, p) => s + p.done, 0) === total;
  }, 90_000, `all ${total} jobs done`);
  done = true;
  const reports = await Promise.all(agents);

  // what the replicas wrote, read from the database itself
  const client = new pg.Client({ connectionString: db });
  await client.connect();
  try {
    const jobs = (await client.query<{ id: string; status: string; result_id: string | null }>('SELECT id, status, result_id FROM jobs WHERE campaign_id = $1', [campaignId])).rows;
    assert.equal(jobs.length, total);
    const measured = (await client.query<{ id: string; job_id: string; disturbed: boolean }>(
      'SELECT m.id, m.job_id, m.disturbed FROM measurements m JOIN jobs j ON j.id = m.job_id WHERE j.campaign_id = $1', [campaignId],
    )).rows;
    const byJob = new Map<string, string[]>();
    for (const m of measured) if (!m.disturbed) byJob.set(m.job_id, [...(byJob.get(m.job_id) ?? []), m.id]);
    for (const j of jobs) {
      assert.equal(j.status, 'done', `job ${j.id}`);
      assert.deepEqual(byJob.get(j.id), [j.result_id], `job ${j.id} has exactly one result, the one it names`);
    }
    // every result an agent was told is safe is stored, as a result of the job it answered
    const stored = new Map(measured.map((m) => [m.id, m.job_id]));
    const acked = reports.flatMap((r) => [...r.acked]);
    for (const [id, jobId] of acked) assert.equal(stored.get(id), jobId, `acknowledged result ${id} of job ${jobId} is stored`);
    assert.equal(acked.length, total, 'one acknowledged result per job');
  } finally {
    await client.end();
  }
  const errors = reports.flatMap((r) => r.errors);
  assert.deepEqual(errors, [], 'no result was refused');
  // both kills hit agents that then failed over and carried on
  assert.ok(firstKill >= 2 && secondKill >= 2, `agents on a at the kills: ${firstKill}, ${secondKill}`);
  assert.ok(reports.filter((r) => r.failovers > 0).length >= firstKill + secondKill, `failovers: ${reports.map((r) => r.failovers).join(',')}`);
  b.proc.kill('SIGTERM');
  a.proc.kill('SIGTERM');
  await Promise.all([a.proc.exited, b.proc.exited]);
});
