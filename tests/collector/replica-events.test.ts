// Collector replicas hear each other through PostgreSQL LISTEN/NOTIFY: a replica's cached
// predictor notices data another replica stored (its data version moved), and every replica's
// dashboard stream shows the same change events. The replicas here share one SQLite file (the
// store is not what is tested) and a real PostgreSQL for the events (tests/helpers/postgres.ts;
// without one the tests skip, saying why).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openStore, PredictorCache, startCollector, type Collector } from '../../collector/index.ts';
import { ChangePublisher, DataVersions, PgNotifier, type ChangeEvent } from '../../collector/events/index.ts';
import type { Measurement } from '../../protocol/index.ts';
import { testPostgres } from '../helpers/postgres.ts';
import { helloFor, rawAgent, TEST_TOKEN, testDevice } from '../helpers/raw-agent.ts';

const pgt = await testPostgres();
const dir = mkdtempSync(join(tmpdir(), 'hwlat-replica-events-'));
const closers: Array<() => Promise<unknown> | unknown> = [];
after(async () => {
  for (const c of closers.reverse()) await c();
  rmSync(dir, { recursive: true, force: true });
});

const DEV = 'dev-0123456789ab';
const PASS = 'pass-replicas';
function measurement(n: number): Measurement {
  return {
    id: `result-replicas-${n}`, deviceId: DEV, passId: PASS, level: 'op', space: 'proxyless-mobile',
    key: `expanded_conv-input:56x56x24-output:56x56x24-expand:${n}-kernel:3-stride:1-idskip:1`,
    spec: { op: 'mbconv', cin: 24, cout: 24, expand: n, kernel: 3, stride: 1, hw: [56, 56], se: false },
    batch: 1, warmup: 10,
    stats: { median: 1, mean: 1, p10: 0.9, p90: 1.1, stddev: 0.1, min: 0.9, cv: 0.1, repeats: 10, outliers: 0 },
    wallMs: 10, calibrationMs: 1, createdAt: `2025-01-01T00:00:${String(n).padStart(2, '0')}.000Z`,
  };
}

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A store on the shared file, opened and closed with the test file. */
async function storeAt(file: string) {
  const store = await openStore({ path: file });
  closers.push(() => store.close());
  return store;
}

async function pgNotifier(url: string, origin: string): Promise<PgNotifier> {
  const n = new PgNotifier({ url, origin });
  closers.push(() => n.close());
  await n.start();
  return n;
}

describe('collector replicas on one database, events over PostgreSQL', { skip: pgt.skip }, () => {
  it("a replica's cached predictor notices another replica's new measurements through the data version, not a timer", { timeout: 30_000 }, async () => {
    const pgUrl = await pgt.createDatabase();
    const file = join(dir, 'predictor.sqlite');
    // replica a writes through a publishing store; replica b serves predictions
    const notifierA = await pgNotifier(pgUrl, 'replica-a');
    const notifierB = await pgNotifier(pgUrl, 'replica-b');
    const publisherA = new ChangePublisher(notifierA, { coalesceMs: 5 });
    const storeA = publisherA.wrap(await storeAt(file));
    const storeB = await storeAt(file);
    await storeA.upsertDevice(testDevice(DEV));
    await storeA.startPass({ id: PASS, deviceId: DEV, startedAt: '2025-01-01T00:00:00.000Z', finishedAt: null, calibrationKey: 'calib', calibrationMs: null, calibrationTrace: [] });

    const versionsB = new DataVersions(notifierB);
    closers.push(() => versionsB.close());
    // the count of measurements is checked at most every 2 s (a tiny share of serving time): only
    // the data version can make b notice a's write sooner
    const withVersions = new PredictorCache({ store: storeB, versions: versionsB, recheckShare: 1e-9 });
    const withoutVersions = new PredictorCache({ store: storeB, recheckShare: 1e-9 });
    for (const cache of [withVersions, withoutVersions]) {
      await assert.rejects(cache.resolve(DEV, 'proxyless-mobile'), /no measurements for space 'proxyless-mobile'/);
      assert.equal(cache.builds, 1);
    }

    const heard: ChangeEvent[] = [];
    notifierB.subscribe((e) => heard.push(e));
    await storeA.insertMeasurements([measurement(1), measurement(2)]);
    await until("b heard of a's measurements", () => heard.some((e) => e.kind === 'measurements' && e.deviceId === DEV && e.origin === 'replica-a'));

    // b with versions rebuilds on the next request; without, it serves what it had until the timer
    const rebuilt = await withVersions.resolve(DEV, 'proxyless-mobile').then((s) => s.measurements, (e: Error) => e.message);
    assert.equal(withVersions.builds, 2, `rebuilt at once (${String(rebuilt)})`);
    await assert.rejects(withoutVersions.resolve(DEV, 'proxyless-mobile'), /no measurements for space/);
    assert.equal(withoutVersions.builds, 1, 'the control: without a version it does not know yet');
    // nothing new: no rebuild
    await withVersions.resolve(DEV, 'proxyless-mobile').catch(() => undefined);
    assert.equal(withVersions.builds, 2);
  });

  it("every replica's dashboard stream shows a change made on another replica, with the same version", { timeout: 30_000 }, async () => {
    const pgUrl = await pgt.createDatabase();
    const file = join(dir, 'dashboard.sqlite');
    // polls far apart: a snapshot that arrives quickly was pushed by a change event
    const poll = process.env.HWLAT_DASHBOARD_POLL_MS;
    process.env.HWLAT_DASHBOARD_POLL_MS = '15000';
    const replicas: Collector[] = [];
    try {
      for (const origin of ['replica-a', 'replica-b']) {
        const c = await startCollector({
          store: await storeAt(file), token: TEST_TOKEN, port: 0, pingMs: 0,
          notifier: new PgNotifier({ url: pgUrl, origin }),
        });
        closers.push(() => c.close());
        replicas.push(c);
      }
    } finally {
      if (poll === undefined) delete process.env.HWLAT_DASHBOARD_POLL_MS;
      else process.env.HWLAT_DASHBOARD_POLL_MS = poll;
    }
    const [a, b] = replicas as [Collector, Collector];

    // both dashboards listen, each got its first snapshot (no campaign yet)
    const streams = await Promise.all([a, b].map((r) => sse(`${r.url}/api/events`)));
    closers.push(() => streams.forEach((s) => s.close()));
    for (const s of streams) await until('the first snapshot', () => s.events.some((e) => e.event === 'snapshot'));

    const t0 = Date.now();
    const res = await fetch(`${a.url}/api/campaigns`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ space: 'nasbench201', ops: true, maxOps: 2, settings: { batch: 1, warmup: 1, minRepeats: 3, minTimeMs: 0 } }),
    });
    assert.equal(res.status, 201);
    const campaign = (await res.json()) as { id: string };

    const changes = await Promise.all(streams.map(async (s) => {
      await until('the campaign change', () => s.events.some((e) => e.event === 'change' && e.data.kind === 'campaigns'));
      await until('a snapshot with the campaign', () => s.events.some((e) => e.event === 'snapshot' && e.data.campaigns.some((c: { id: string }) => c.id === campaign.id)));
      return s.events.find((e) => e.event === 'change' && e.data.kind === 'campaigns')?.data as ChangeEvent;
    }));
    assert.ok(Date.now() - t0 < 10_000, 'well before the next poll');
    assert.deepEqual(changes[0], changes[1], 'the same event on both replicas');
    assert.equal(changes[1]?.campaignId, campaign.id);
    assert.equal(changes[1]?.origin, 'replica-a');
    assert.ok((changes[1]?.version ?? 0) > 0);

    // an agent on a: both dashboards count it (b hears a's count), and stop counting it when it goes
    const lastSnapshot = (i: number) => [...(streams[i]?.events ?? [])].reverse().find((e) => e.event === 'snapshot')?.data as { agents: number } | undefined;
    const agent = await rawAgent(a.wsUrl);
    agent.send(helloFor({ deviceId: 'dev-aaaaaaaaaaaa', agentId: 'agent-on-a', passId: 'pass-on-a' }));
    await agent.next((m) => m.type === 'welcome');
    await until('both dashboards show the agent', () => lastSnapshot(0)?.agents === 1 && lastSnapshot(1)?.agents === 1);
    agent.ws.close();
    await agent.closed;
    await until('both dashboards show it gone', () => lastSnapshot(0)?.agents === 0 && lastSnapshot(1)?.agents === 0);
  });
});

/** A minimal server-sent-events reader over fetch. */
async function sse(url: string): Promise<{ events: Array<{ event: string; data: any }>; close(): void }> {
  const ctl = new AbortController();
  const res = await fetch(url, { signal: ctl.signal });
  assert.equal(res.status, 200);
  const events: Array<{ event: string; data: any }> = [];
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buf = '';
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buf += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, end);
          buf = buf.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data) events.push({ event, data: JSON.parse(data) });
        }
      }
    } catch {
      // aborted
    }
  })();
  return { events, close: () => ctl.abort() };
}
