import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openStore } from '../../collector/index.ts';
import { loadPredictor } from '../../predictor/index.ts';
import { hwlat, ROOT } from '../helpers/cli.ts';
import { spawnHwlat, until } from '../helpers/procs.ts';
import { helloFor, rawAgent } from '../helpers/raw-agent.ts';

const dir = mkdtempSync(join(tmpdir(), 'hwlat-demo-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// the main job, shrunk: two local agents (1 and 2 threads) measure NAS-Bench-201's 19 op keys and
// 16 networks each, one after the other; then LUT, predictor, held-out accuracy and the report
const ARGS = ['demo', '--space', 'nasbench201', '--networks', '16', '--agents', 'ort-node:cpu@1,ort-node:cpu@2', '--min-time', '0', '--port', '0', '--exit', '--json'];

test('hwlat demo measures with separate agent processes, trains, evaluates and reports; a second run reuses the measurements', async () => {
  const db = join(dir, 'demo.sqlite');
  const out = join(dir, 'out');
  const first = await hwlat([...ARGS, '--db', db, '--out', out], { timeoutMs: 240_000 });
  assert.equal(first.code, 0, first.stderr);
  const r = JSON.parse(first.stdout);
  assert.equal(r.space, 'nasbench201');
  assert.equal(r.reusedCampaign, false);
  assert.equal(r.devices.length, 2);
  const ids = r.devices.map((d: any) => d.deviceId);
  assert.equal(new Set(ids).size, 2, `1 and 2 threads are separate devices: ${ids}`);
  let scored = 0;
  for (const d of r.devices) {
    assert.match(d.deviceId, /^dev-[0-9a-f]{12}$/);
    // 46 op keys + 16 networks, all measured in this run (disturbed results are kept beside the
    // ones that completed their jobs, so a device may hold more)
    assert.equal(d.measuredNow, 62);
    assert.ok(d.measurements >= 62, `${d.measurements} measurements`);
    assert.ok(d.quality && typeof d.quality.text === 'string', 'the summary carries the data quality');
    if (d.metrics === null) {
      // a device whose data stayed disturbed (2 spinning threads on a busy 2-core machine) gets no
      // score, and the note says why instead
      assert.match(d.error ?? '', /too little clean data|too few measurements/, `no score and no reason for ${d.label}`);
      continue;
    }
    scored++;
    assert.equal(d.error, null, d.error);
    assert.equal(d.networks + d.dropped.networks >= 16, true);
    assert.ok(d.metrics.n >= 2, 'held-out networks were evaluated');
    // a handful of held-out networks: their ranking is too few points to assert on, the error is not
    assert.ok(Math.abs(d.metrics.spearman) <= 1 + 1e-9);
    assert.ok(Number.isFinite(d.metrics.mape) && d.metrics.mape >= 0, `MAPE ${d.metrics.mape}`);
    assert.ok(d.predictionsPerSecond > 1000, `${d.predictionsPerSecond} predictions/s`);
    const p = await loadPredictor(d.modelDir);
    assert.equal(p.data.deviceId, d.deviceId);
    assert.ok(p.predict('|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|').ms > 0);
    assert.match(readFileSync(d.report, 'utf8'), /<svg/);
  }
  assert.ok(scored >= 1, 'at least the 1-thread device is scored');
  // the browser agent's link carries the token `hwlat serve` would use on this database
  const saved = readFileSync(`${db}.token`, 'utf8').trim();
  assert.match(r.agentUrl, /^http:\/\/127\.0\.0\.1:\d+\/agent\?token=[0-9a-f]{32}$/);
  assert.equal(new URL(r.agentUrl).searchParams.get('token'), saved);
  const report = readFileSync(r.report, 'utf8');
  for (const id of ids) assert.ok(report.includes(id), `the summary report names ${id}`);

  const store = openStore({ path: db });
  try {
    const camp = (await store.getCampaign(r.campaignId));
    assert.ok(camp);
    for (const p of (await store.campaignProgress(r.campaignId))) assert.deepEqual([p.done, p.total], [62, 62]);
  } finally {
    await store.close();
  }

  const second = await hwlat([...ARGS, '--db', db, '--out', out], { timeoutMs: 180_000 });
  assert.equal(second.code, 0, second.stderr);
  const r2 = JSON.parse(second.stdout);
  assert.equal(r2.reusedCampaign, true);
  assert.equal(r2.campaignId, r.campaignId);
  assert.deepEqual(r2.devices.map((d: any) => [d.deviceId, d.measuredNow, d.measurements]), r.devices.map((d: any) => [d.deviceId, 0, d.measurements]));
});

test("hwlat demo prints the browser agent's link with its token while the collector runs", { timeout: 240_000 }, async () => {
  const db = join(dir, 'link.sqlite');
  // no $HWLAT_TOKEN: the demo saves a new token beside the database, as `hwlat serve` does
  const demo = spawnHwlat(
    ['demo', '--space', 'nasbench201', '--networks', '10', '--agents', 'ort-node:cpu@1', '--min-time', '0', '--port', '0', '--exit', '--db', db, '--out', join(dir, 'link-out')],
    'demo',
    { HWLAT_TOKEN: '' },
  );
  try {
    let link = '';
    await until(() => {
      link = /browser agent: (\S+)/.exec(demo.stderr)?.[1] ?? '';
      if (!link && demo.child.exitCode !== null) throw new Error(`demo exited without the link; stderr:\n${demo.stderr}`);
      return link !== '';
    }, 60_000, `the browser agent link on stderr (so far:\n${demo.stderr})`);
    const url = new URL(link);
    const token = url.searchParams.get('token');
    assert.equal(url.pathname, '/agent');
    assert.equal(token, readFileSync(`${db}.token`, 'utf8').trim());
    // the link opens the page, and its token lets an agent in (a wrong one does not)
    const page = await fetch(link);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<html/i);
    const wsUrl = `ws://${url.host}/ws`;
    const good = await rawAgent(wsUrl);
    good.send(helloFor({ deviceId: 'dev-0123456789ab', agentId: 'link-test', passId: 'pass-link', token: token! }));
    assert.equal((await good.next(undefined, 10_000)).type, 'welcome');
    good.ws.close();
    const bad = await rawAgent(wsUrl);
    bad.send(helloFor({ deviceId: 'dev-0123456789ab', agentId: 'link-test-2', passId: 'pass-link', token: 'wrong-token-0123456789' }));
    assert.equal((await bad.next(undefined, 10_000)).type, 'error');
    bad.ws.close();
  } finally {
    // the link is checked: rather than wait for the whole campaign and training (--exit), stop
    // the demo's agent (SIGINT: it releases its lease and exits); the demo, its agent gone, exits
    // by itself, so no agent is left retrying a collector that has gone
    const agents = spawnSync('ps', ['-o', 'pid=', '--ppid', String(demo.child.pid)], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.trim() !== '').map(Number);
    for (const pid of agents) {
      try {
        process.kill(pid, 'SIGINT');
      } catch {
        // it exited meanwhile
      }
    }
    // (the timer is cleared: left pending, it kept the test file alive for 200 s after its tests)
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([demo.exited, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), 200_000)))]);
    clearTimeout(timer);
    if (code === 'timeout') demo.kill('SIGKILL');
  }
});

test('hwlat demo rejects a malformed agent list before touching the database', async () => {
  const db = join(dir, 'never.sqlite');
  const res = await hwlat(['demo', '--agents', 'ort-node:cpu@zero', '--db', db, '--exit']);
  assert.equal(res.code, 1);
  assert.match(res.stderr, /'--agents' entry 'ort-node:cpu@zero'/);
  assert.equal(existsSync(db), false);
});

test("the README's first command: `npm start` runs hwlat demo (the package's own bin is not on npm's PATH)", async () => {
  const res = spawnSync('npm', ['start', '--silent', '--', '--help'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  assert.equal(res.status, 0, res.stderr);
  assert.match(res.stdout, /Usage: hwlat demo/);
});
