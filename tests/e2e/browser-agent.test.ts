// The browser agent end to end: a real `hwlat serve` process, its /agent page in headless Chromium
// (playwright-core), a real SQLite file. The page finishes small campaigns with the wasm backend
// (surviving a collector crash and restart in the middle) and with WebGPU on Chromium's software
// adapter; measurements are stored under browser device ids.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { browserUnavailable, launchBrowser } from '../helpers/browser.ts';
import { getJson, startServe, until, type HwlatProcess } from '../helpers/procs.ts';

const TOKEN = 'browser-secret-0123456789';
/** screenshots land here (gitignored), for people to look at after a run */
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'hwlat-browser-'));
const procs: HwlatProcess[] = [];
after(async () => {
  for (const p of procs) p.kill('SIGKILL');
  await Promise.all(procs.map((p) => p.exited));
  rmSync(dir, { recursive: true, force: true });
});

async function serve(db: string, port?: number) {
  const s = await startServe({ db, token: TOKEN, port });
  procs.push(s.proc);
  const listening = s.proc.events.find((e) => e.event === 'listening') as { agentUrl: string };
  // the logged link hides the token (hwlat serve --print-link shows it): the test knows it
  assert.match(listening.agentUrl, /\/agent\?token=\*\*\*$/);
  return { ...s, agentUrl: listening.agentUrl.replace('token=***', `token=${TOKEN}`) };
}

async function createCampaign(url: string, body: Record<string, unknown>): Promise<{ id: string; tasks: number }> {
  const res = await getJson(`${url}/api/campaigns`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

interface PageView {
  status: string;
  message: string;
  device: { id: string; runtime: { backend: string; provider: string } } | null;
  counts: { leases: number; results: number; acked: number; resent: number; failedJobs: number; pending: number; connections: number };
  events: string[];
}

function view(page: Page): Promise<PageView> {
  return page.evaluate(() => {
    const h = (globalThis as unknown as { hwlat: Omit<PageView, 'events'> & { events: Array<{ event: string }> } }).hwlat;
    return { status: h.status, message: h.message, device: h.device, counts: { ...h.counts }, events: h.events.map((e) => e.event) };
  });
}

async function campaignDone(url: string, id: string, deviceId: string): Promise<boolean> {
  const { body } = await getJson(`${url}/api/campaigns/${id}`);
  const p = (body?.progress ?? []).find((x: { deviceId: string }) => x.deviceId === deviceId);
  return p !== undefined && p.done === p.total;
}

// the two campaigns run side by side: the WebGPU one mostly waits on Chromium's software adapter
describe('the browser agent', { concurrency: 2 }, () => {
test('wasm: the /agent page finishes a campaign under a browser device id, survives a collector restart, shows progress', { skip: browserUnavailable(), timeout: 150_000 }, async () => {
  const db = join(dir, 'wasm.sqlite');
  let collector = await serve(db);
  assert.match(collector.agentUrl, new RegExp(`^http://127\\.0\\.0\\.1:${collector.port}/agent\\?token=${TOKEN}$`));
  // one network per lease, each measured for >= 0.5 s: the campaign spans several leases and one
  // can be caught in flight
  const campaign = await createCampaign(collector.url, { space: 'nasbench201', networks: 3, seed: 5, settings: { batch: 1, warmup: 1, minRepeats: 10, minTimeMs: 500 } });
  const browser = await launchBrowser();
  try {
    const page = await browser.context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${collector.agentUrl}&backend=wasm&maxJobs=1`);

    // mid-campaign: progress renders, screenshot taken
    await until(async () => (await view(page)).counts.acked >= 1, 60_000, 'the first acknowledged result');
    await until(async () => /^[12] \/ 3 jobs done/.test((await page.textContent('#progress-text')) ?? ''), 15_000, "the page's campaign progress");
    const bar = await page.$eval('#progress', (el) => ({ value: (el as HTMLProgressElement).value, max: (el as HTMLProgressElement).max }));
    assert.equal(bar.max, 3);
    assert.ok(bar.value >= 1 && bar.value < 3, `progress bar mid-campaign: ${JSON.stringify(bar)}`);
    mkdirSync(ARTIFACTS, { recursive: true });
    const shot = join(ARTIFACTS, 'browser-agent-mid-campaign.png');
    await page.screenshot({ path: shot, fullPage: true });
    assert.ok(statSync(shot).size > 5000, 'the screenshot has content');
    assert.match((await page.textContent('#device')) ?? '', /ort-web.*wasm/);

    // crash the collector while a lease is being measured: the result goes to IndexedDB
    await page.waitForFunction(() => {
      const c = (globalThis as unknown as { hwlat: PageView }).hwlat.counts;
      return c.leases > c.results + c.failedJobs;
    }, null, { timeout: 30_000 });
    const measuredBefore = (await view(page)).counts.results;
    collector.proc.kill('SIGKILL');
    await collector.proc.exited;
    await until(async () => {
      const v = await view(page);
      return v.counts.results > measuredBefore && v.counts.pending >= 1 && v.status === 'connecting';
    }, 30_000, 'a result measured while the collector is down, kept in the outbox');

    // the same port and database again: the page reconnects and re-sends what was not acknowledged
    collector = await serve(db, collector.port);
    const deviceId = (await view(page)).device?.id as string;
    await until(() => campaignDone(collector.url, campaign.id, deviceId), 90_000, 'the campaign to finish on the browser device');
    await until(async () => (await view(page)).counts.pending === 0, 10_000, 'an empty outbox');
    const v = await view(page);
    assert.ok(v.counts.resent >= 1 && v.events.includes('resend'), `unacknowledged results were re-sent: ${JSON.stringify(v.counts)}`);
    assert.ok(v.counts.connections >= 2, 'the page reconnected');
    assert.deepEqual(pageErrors, []);

    // stored under the browser's device id, once per job
    const devices = (await getJson(`${collector.url}/api/devices`)).body.devices as Array<{ id: string; runtime: { backend: string; provider: string }; hardware: { userAgent?: string } }>;
    const device = devices.find((d) => d.id === deviceId);
    assert.ok(device, `device ${deviceId} is registered`);
    assert.equal(device.runtime.backend, 'ort-web');
    assert.equal(device.runtime.provider, 'wasm');
    assert.match(device.hardware.userAgent ?? '', /Chrome/);
    const { body } = await getJson(`${collector.url}/api/measurements?device=${deviceId}`);
    // one measurement per job, besides disturbed ones (kept marked, their jobs measured again)
    const clean = body.measurements.filter((m: { quality?: { verdict: string } }) => m.quality?.verdict !== 'disturbed');
    assert.ok(body.total >= 3 && body.total - clean.length <= 3, `${body.total} measurements, ${clean.length} not disturbed`);
    assert.ok(body.measurements.every((m: { quality?: unknown }) => m.quality), 'the page sends each measurement with its quality verdict');
    const jobIds = body.measurements.map((m: { jobId: string }) => m.jobId);
    assert.equal(new Set(jobIds).size, 3, 'every job measured');
    for (const m of body.measurements) assert.ok(m.stats.median > 0 && m.calibrationMs > 0, 'real timings with the pass calibration');

    // without ?backend the page tries WebGPU first; this Chromium (--disable-gpu) has no adapter,
    // so it falls back to wasm, says why, and is the same wasm device
    const auto = await browser.context.newPage();
    await auto.goto(collector.agentUrl);
    await until(async () => ['idle', 'error'].includes((await view(auto)).status), 60_000, 'the auto page to register and find no jobs left');
    const fallback = await auto.evaluate(() => (globalThis as unknown as { hwlat: { fallbackReason: string | null; device: { id: string } } }).hwlat);
    assert.equal(fallback.device.id, deviceId);
    assert.match(fallback.fallbackReason ?? '', /adapter|navigator\.gpu/);
    assert.match((await auto.textContent('#device')) ?? '', /wasm, since WebGPU is not usable/);
  } finally {
    await browser.close();
  }
});

test('webgpu: with --enable-unsafe-webgpu the page measures on the WebGPU provider and the profile carries the adapter', { skip: browserUnavailable(), timeout: 150_000 }, async (t) => {
  const db = join(dir, 'webgpu.sqlite');
  const collector = await serve(db);
  // one small op: Chromium's software adapter (SwiftShader) takes seconds per network run
  const campaign = await createCampaign(collector.url, { space: 'nasbench201', ops: true, maxOps: 1, settings: { batch: 1, warmup: 0, minRepeats: 2, minTimeMs: 0 } });
  const browser = await launchBrowser({ webgpu: true });
  try {
    const page = await browser.context.newPage();
    await page.goto(`${collector.url}/agent`);
    const adapter = await page.evaluate(async () => {
      const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<{ info?: Record<string, string> } | null> } }).gpu;
      if (!gpu) return { why: 'navigator.gpu is missing' };
      const a = await gpu.requestAdapter();
      return a ? { info: { vendor: a.info?.vendor ?? '', architecture: a.info?.architecture ?? '' } } : { why: 'requestAdapter() gave no adapter' };
    });
    if ('why' in adapter) {
      t.skip(`WebGPU is not available in this Chromium: ${adapter.why}`);
      return;
    }
    // no ?backend: the page picks WebGPU by itself when an adapter is there
    await page.goto(collector.agentUrl);
    await until(async () => (await view(page)).device !== null || (await view(page)).status === 'error', 60_000, 'the page to pick its backend');
    const first = await view(page);
    assert.notEqual(first.status, 'error', first.message);
    assert.equal(first.device?.runtime.provider, 'webgpu');
    const deviceId = first.device?.id as string;
    await until(() => campaignDone(collector.url, campaign.id, deviceId), 120_000, 'the WebGPU job to be measured');

    const devices = (await getJson(`${collector.url}/api/devices`)).body.devices as Array<{ id: string; runtime: { backend: string; provider: string }; hardware: { gpus: Array<{ vendor: string; model: string }> } }>;
    const device = devices.find((d) => d.id === deviceId);
    assert.ok(device);
    assert.deepEqual(device.runtime.backend, 'ort-web');
    assert.equal(device.runtime.provider, 'webgpu');
    assert.equal(device.hardware.gpus.length, 1);
    assert.equal(device.hardware.gpus[0]?.vendor, adapter.info.vendor || 'unknown');
    assert.ok(device.hardware.gpus[0]?.model.includes(adapter.info.architecture), `gpu model names the adapter: ${JSON.stringify(device.hardware.gpus)} vs ${JSON.stringify(adapter.info)}`);
    const { body } = await getJson(`${collector.url}/api/measurements?device=${deviceId}`);
    assert.equal(body.total, 1);
    assert.ok(body.measurements[0].stats.median > 0);
  } finally {
    await browser.close();
  }
});
});
