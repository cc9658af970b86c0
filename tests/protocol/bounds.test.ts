// Physical bounds and internal consistency of measured figures (issue 16, defect 2): one result
// claiming 1e300 ms must be refused at the boundary, not stored where it poisons a device's LUT.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { openStore, startCollector, type Collector, type SqliteStore } from '../../collector/index.ts';
import {
  LatencyStatsSchema, MAX_LATENCY_MS, MAX_WALL_MS, MeasurementSchema, ResultSchema, describeZodError,
} from '../../protocol/index.ts';
import { createCampaign, GOOD_STATS, helloFor, rawAgent, resultFor, TEST_TOKEN } from '../helpers/raw-agent.ts';

const firstField = (schema: { safeParse(v: unknown): any }, v: unknown): string | null => {
  const r = schema.safeParse(v);
  return r.success ? null : describeZodError(r.error).field;
};

test('stats: bounded, finite and ordered (min <= p10 <= median <= p90); good figures pass', async () => {
  assert.equal(firstField(LatencyStatsSchema, GOOD_STATS), null);
  // one sample: every figure equal, stddev and cv 0
  assert.equal(firstField(LatencyStatsSchema, { median: 2, mean: 2, p10: 2, p90: 2, stddev: 0, min: 2, cv: 0, repeats: 1, outliers: 0 }), null);
  for (const f of ['median', 'mean', 'p10', 'p90', 'stddev', 'min'] as const) {
    assert.equal(firstField(LatencyStatsSchema, { ...GOOD_STATS, [f]: 1e300 }), f, f);
  }
  assert.equal(firstField(LatencyStatsSchema, { ...GOOD_STATS, median: MAX_LATENCY_MS * 1.01, p90: MAX_LATENCY_MS * 1.01 }), 'median');
  assert.equal(firstField(LatencyStatsSchema, { ...GOOD_STATS, median: Infinity }), 'median');
  assert.equal(firstField(LatencyStatsSchema, { ...GOOD_STATS, median: Number.NaN }), 'median');
  assert.equal(firstField(LatencyStatsSchema, { ...GOOD_STATS, p10: 1.05 }), 'median', 'p10 above the median');
  assert.equal(firstField(LatencyStatsSchema, { ...GOOD_STATS, p90: 0.95 }), 'p90', 'p90 below the median');
  assert.equal(firstField(LatencyStatsSchema, { ...GOOD_STATS, min: 0.95 }), 'p10', 'min above p10');
  assert.equal(firstField(LatencyStatsSchema, { ...GOOD_STATS, cv: -0.1 }), 'cv');
  assert.equal(firstField(LatencyStatsSchema, { ...GOOD_STATS, repeats: 0 }), 'repeats');
  assert.equal(firstField(LatencyStatsSchema, { ...GOOD_STATS, repeats: 1.5 }), 'repeats');
  const r = LatencyStatsSchema.safeParse({ ...GOOD_STATS, p90: 0.5 });
  assert.ok(!r.success && /p90 \(0\.5 ms\) must be >= median \(1 ms\)/.test(describeZodError(r.error).message));
});

test('results and measurements: wallMs, calibrationMs, anchorMs and cold figures are bounded too', async () => {
  const res = resultFor('job-1', 'result-00000001', 'pass-00000001');
  assert.equal(firstField(ResultSchema, res), null);
  assert.equal(firstField(ResultSchema, { ...res, wallMs: 1e300 }), 'wallMs');
  assert.equal(firstField(ResultSchema, { ...res, wallMs: MAX_WALL_MS + 1 }), 'wallMs');
  assert.equal(firstField(ResultSchema, { ...res, calibrationMs: 1e300 }), 'calibrationMs');
  assert.equal(firstField(ResultSchema, { ...res, anchorMs: 1e300 }), 'anchorMs');
  assert.equal(firstField(ResultSchema, { ...res, cold: { ...GOOD_STATS, median: 1e300, p90: 1e300 } }), 'cold.median');
  assert.equal(firstField(ResultSchema, { ...res, stats: { ...GOOD_STATS, p10: 2, median: 1 } }), 'stats.median');
  const m = {
    id: 'meas-00000001', deviceId: 'dev-1', passId: 'pass-1', level: 'op', space: null, key: 'k', batch: 1, warmup: 0,
    stats: GOOD_STATS, wallMs: 1, calibrationMs: 1, createdAt: new Date().toISOString(),
  };
  assert.equal(firstField(MeasurementSchema, m), null);
  assert.equal(firstField(MeasurementSchema, { ...m, stats: { ...GOOD_STATS, stddev: 1e300 } }), 'stats.stddev');
  assert.equal(firstField(MeasurementSchema, { ...m, calibrationMs: 1e300 }), 'calibrationMs');
  assert.equal(firstField(MeasurementSchema, { ...m, anchorMs: 2e6 }), 'anchorMs');
});

const dir = mkdtempSync(join(tmpdir(), 'hwlat-bounds-'));
let store: SqliteStore;
let collector: Collector;
before(async () => {
  store = openStore({ path: join(dir, 'b.sqlite') });
  collector = await startCollector({ store, token: TEST_TOKEN, port: 0, host: '127.0.0.1', leaseTtlMs: 10_000 });
});
after(async () => {
  await collector.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

test('a real collector refuses absurd results naming the field; nothing is stored and the job stays leased', async () => {
  const deviceId = 'dev-b0b0b0b0b0b0';
  const passId = 'pass-bounds-0001';
  const a = await rawAgent(collector.wsUrl);
  a.send(helloFor({ deviceId, agentId: 'agent-bounds-0001', passId }));
  await a.next((m) => m.type === 'welcome');
  await createCampaign(collector.url, { space: 'nasbench201', networks: 1, devices: [deviceId] });
  a.send({ type: 'lease_request', max: 1 });
  const lease = await a.next((m) => m.type === 'lease');
  const jobId = lease.jobs[0].id as string;
  const absurd: Array<[Record<string, unknown>, string]> = [
    [{ stats: { ...GOOD_STATS, median: 1e300, mean: 1e300, p90: 1e300 } }, 'stats.median'],
    [{ stats: { ...GOOD_STATS, mean: 1e300 } }, 'stats.mean'],
    [{ stats: { ...GOOD_STATS, p90: 1e300 } }, 'stats.p90'],
    [{ stats: { ...GOOD_STATS, stddev: 1e300 } }, 'stats.stddev'],
    [{ stats: { ...GOOD_STATS, p10: 1.5 } }, 'stats.median'],
    [{ wallMs: 1e300 }, 'wallMs'],
    [{ calibrationMs: 1e300 }, 'calibrationMs'],
    [{ anchorMs: 1e300 }, 'anchorMs'],
  ];
  for (const [i, [extra, field]] of absurd.entries()) {
    const resultId = `result-absurd-${String(i).padStart(4, '0')}`;
    a.send(resultFor(jobId, resultId, passId, extra));
    const reply = await a.next((m) => m.resultId === resultId);
    assert.deepEqual([reply.type, reply.code, reply.field], ['error', 'bad_message', field], JSON.stringify(reply));
  }
  assert.equal((await store.countMeasurements()), 0);
  assert.equal((await store.getJob(jobId))?.status, 'leased');
  // a sane result still completes the job
  a.send(resultFor(jobId, 'result-sane-0001', passId));
  assert.deepEqual((await a.next((m) => m.type === 'ack')).resultIds, ['result-sane-0001']);
  assert.equal((await store.getJob(jobId))?.status, 'done');
  a.ws.close();
});
