import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openStore } from '../../collector/index.ts';
import { freePort, getJson, spawnHwlat, startServe, until, type HwlatProcess } from '../helpers/procs.ts';

// Real collector and agents as separate processes on 127.0.0.1, a real SQLite file.
const TOKEN = 'fleet-secret-0123456789';
const dir = mkdtempSync(join(tmpdir(), 'hwlat-fleet-'));
const procs: HwlatProcess[] = [];
after(async () => {
  for (const p of procs) p.kill('SIGKILL');
  await Promise.all(procs.map((p) => p.exited));
  rmSync(dir, { recursive: true, force: true });
});

function agent(wsUrl: string, name: string, threads: number, extra: string[] = []): HwlatProcess {
  const p = spawnHwlat(
    ['agent', '--collector', wsUrl, '--token', TOKEN, '--threads', String(threads), '--state-dir', join(dir, name), '--max-jobs', '3', '--log-json', ...extra],
    name,
  );
  procs.push(p);
  return p;
}

async function createCampaign(url: string, body: Record<string, unknown>): Promise<any> {
  const res = await getJson(`${url}/api/campaigns`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

const QUICK = { batch: 1, warmup: 1, minRepeats: 3, minTimeMs: 0 };

/** Every job of the campaign has exactly one measurement, on its own device. */
async function assertExactlyOnce(db: string, campaignId: string, devices: number): Promise<number> {
  const store = openStore({ path: db });
  try {
    const campaign = (await store.getCampaign(campaignId));
    assert.ok(campaign);
    const progress = (await store.campaignProgress(campaignId));
    assert.equal(progress.length, devices);
    for (const p of progress) assert.equal(p.done, p.total, `device ${p.deviceId}: ${p.done}/${p.total}`);
    // one result completes each job; the only other measurements a job may have are disturbed
    // ones (two agents measuring at once on a small machine disturb each other), kept marked
    const completing = new Set((await store.listJobs({ campaignId })).map((j) => j.resultId));
    const measured = (await store.listMeasurements({})).filter((m) => typeof m.jobId === 'string');
    for (const m of measured) if (!completing.has(m.id)) assert.equal(m.quality?.verdict, 'disturbed', `measurement ${m.id} of job ${m.jobId} neither completed it nor is marked disturbed`);
    const jobIds = measured.filter((m) => completing.has(m.id)).map((m) => m.jobId);
    assert.equal(new Set(jobIds).size, jobIds.length, 'no job has two completing measurements');
    const total = progress.reduce((a, p) => a + p.total, 0);
    assert.equal((await store.countJobs({ campaignId, status: 'done' })), total);
    // the agents measured each network job beside its space's anchor, and it reached the store
    for (const m of (await store.listMeasurements({}))) {
      if (m.level === 'network') assert.ok((m.anchorMs ?? 0) > 0, `network measurement ${m.id} carries an anchorMs`);
      else assert.equal('anchorMs' in m, false, `op measurement ${m.id} carries no anchorMs`);
    }
    return total;
  } finally {
    await store.close();
  }
}

test('two agents with different settings (two device ids) finish a campaign: one measurement per job per device', async () => {
  const db = join(dir, 'two.sqlite');
  const serve = await startServe({ db, token: TOKEN });
  procs.push(serve.proc);
  const a1 = agent(serve.wsUrl, 'a1', 1);
  const a2 = agent(serve.wsUrl, 'a2', 2);
  await a1.waitFor((e) => e.event === 'connected');
  await a2.waitFor((e) => e.event === 'connected');
  const c = await createCampaign(serve.url, { space: 'nasbench201', ops: true, maxOps: 4, networks: 3, settings: QUICK });
  assert.equal(c.tasks, 7);
  await until(async () => {
    const s = await getJson(`${serve.url}/api/campaigns/${c.id}`);
    return s.body.progress.length === 2 && s.body.progress.every((p: any) => p.done === p.total);
  }, 120_000, 'the campaign to finish on both devices');
  // Ctrl-C: agents stop cleanly with exit code 0
  a1.kill('SIGINT');
  a2.kill('SIGINT');
  assert.equal(await a1.exited, 0);
  assert.equal(await a2.exited, 0);
  serve.proc.kill('SIGTERM');
  await serve.proc.exited;
  assert.equal(await assertExactlyOnce(db, c.id, 2), 14);
});

test('an agent killed with SIGKILL mid-lease: its jobs are re-leased and finished by another agent', async () => {
  const db = join(dir, 'kill.sqlite');
  const serve = await startServe({ db, token: TOKEN, leaseTtlMs: 3000 });
  procs.push(serve.proc);
  const victim = agent(serve.wsUrl, 'victim', 1);
  await victim.waitFor((e) => e.event === 'connected');
  // slow enough settings that the victim is surely mid-measurement when killed; 4 networks: its
  // lease of 3 for the rescuer to take over after the TTL, and one it never leased
  const c = await createCampaign(serve.url, { space: 'nasbench201', networks: 4, settings: { ...QUICK, minTimeMs: 400 } });
  await victim.waitFor((e) => e.event === 'lease' && e.jobs > 0);
  victim.kill('SIGKILL');
  await victim.exited;
  const rescuer = agent(serve.wsUrl, 'rescuer', 1);
  await until(async () => {
    const s = await getJson(`${serve.url}/api/campaigns/${c.id}`);
    return s.body.progress.every((p: any) => p.done === p.total);
  }, 120_000, 'the rescuer to finish the campaign');
  rescuer.kill('SIGINT');
  assert.equal(await rescuer.exited, 0);
  serve.proc.kill('SIGTERM');
  await serve.proc.exited;
  await assertExactlyOnce(db, c.id, 1);
  const store = openStore({ path: db });
  try {
    const ids = (await store.listMeasurements({})).map((m) => m.jobId as string);
    const jobs = [];
    for (const id of ids) jobs.push(await store.getJob(id));
    const reLeased = jobs.filter((j) => (j?.attempts ?? 0) >= 2);
    assert.ok(reLeased.length >= 1, 'at least one job of the killed agent was leased again');
  } finally {
    await store.close();
  }
});

test('the collector killed with SIGKILL while results stream in, restarted on the same db: every acked result is there, the rest re-sent, the count exact', async () => {
  const db = join(dir, 'crash.sqlite');
  const port = await freePort();
  let serve = await startServe({ db, token: TOKEN, port, leaseTtlMs: 4000 });
  procs.push(serve.proc);
  const a1 = agent(serve.wsUrl, 'c1', 1);
  const a2 = agent(serve.wsUrl, 'c2', 2);
  await a1.waitFor((e) => e.event === 'connected');
  await a2.waitFor((e) => e.event === 'connected');
  // 16 jobs per device: with 3 per lease, most are still to come when the plug is pulled
  const c = await createCampaign(serve.url, { space: 'nasbench201', ops: true, maxOps: 12, networks: 4, settings: QUICK });
  // let results stream, then pull the plug
  await a1.waitFor((e) => e.event === 'ack');
  serve.proc.kill('SIGKILL');
  await serve.proc.exited;
  const ackedBefore = [a1, a2].flatMap((a) => a.events.filter((e) => e.event === 'ack').flatMap((e) => e.resultIds as string[])).length;
  assert.ok(ackedBefore < 2 * c.tasks, `the collector died mid-campaign (${ackedBefore} of ${2 * c.tasks} results acked)`);
  await new Promise((r) => setTimeout(r, 500));
  serve = await startServe({ db, token: TOKEN, port, leaseTtlMs: 4000 });
  procs.push(serve.proc);
  await until(async () => {
    const s = await getJson(`${serve.url}/api/campaigns/${c.id}`);
    return s.body.progress.length === 2 && s.body.progress.every((p: any) => p.done === p.total);
  }, 180_000, 'the campaign to finish after the restart');
  for (const a of [a1, a2]) a.kill('SIGINT');
  assert.equal(await a1.exited, 0);
  assert.equal(await a2.exited, 0);
  serve.proc.kill('SIGTERM');
  await serve.proc.exited;
  const total = await assertExactlyOnce(db, c.id, 2);
  const acked = [a1, a2].flatMap((a) => a.events.filter((e) => e.event === 'ack').flatMap((e) => e.resultIds as string[]));
  const store = openStore({ path: db });
  try {
    const stored = new Set((await store.listMeasurements({})).map((m) => m.id));
    for (const id of acked) assert.ok(stored.has(id), `acked result ${id} is stored`);
    // exactly one completing measurement per job; disturbed extras are kept, marked
    const disturbed = (await store.listMeasurements({})).filter((m) => m.quality?.verdict === 'disturbed').length;
    assert.ok((await store.countMeasurements()) >= total && (await store.countMeasurements()) <= total + disturbed, `${(await store.countMeasurements())} measurements for ${total} jobs (${disturbed} disturbed)`);
  } finally {
    await store.close();
  }
});
