import assert from 'node:assert/strict';
import { isUsable } from '../../conditions/index.ts';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  CALIBRATION_KEY, createBackend, fingerprint, networkItems, opItems, profileItems, type RuntimeBackend,
} from '../../agent/index.ts';
import { openStore, startCollector, type Collector, type SqliteStore } from '../../collector/index.ts';
import { breakdownJson } from '../../collector/server/predict-routes.ts';
import { LUT_FORMATS } from '../../lut/index.ts';
import { getSpace, sampleArchs, spaceUnits } from '../../ops-library/index.ts';
import { loadPredictor, savePredictor } from '../../predictor/index.ts';

// A real collector in-process on 127.0.0.1 over a real SQLite file holding a real (short) profile
// of NAS-Bench-201 on this machine: every layer key and 12 sampled networks.
const TOKEN = 'predict-secret-0123456789';
const SPACE = getSpace('nasbench201');
const dir = mkdtempSync(join(tmpdir(), 'hwlat-predict-'));
let store: SqliteStore;
let backend: RuntimeBackend;
let collector: Collector;
let deviceId: string;
let archs: string[];
/** the layer keys whose op measurement a LUT may use (not disturbed) */
let usableOps = new Set<string>();
const others: Array<{ close(): Promise<void> | void }> = [];

/** Profiles items in a new pass of the device and stores them, as `hwlat profile` does. */
async function profile(items: Parameters<typeof profileItems>[0]): Promise<number> {
  const passId = `pass-${randomUUID()}`;
  await store.startPass({ id: passId, deviceId, startedAt: new Date().toISOString(), finishedAt: null, calibrationKey: CALIBRATION_KEY, calibrationMs: null, calibrationTrace: [] });
  let stored = 0;
  const result = await profileItems(items, {
    backend, deviceId, passId, warmup: 0, minRepeats: 3, minTimeMs: 0,
    onMeasurements: async (ms) => {
      stored += (await store.insertMeasurements(ms)).inserted;
    },
  });
  await store.finishPass(passId, { finishedAt: new Date().toISOString(), calibrationMs: result.calibrationMs, calibrationTrace: result.calibrationTrace });
  return stored;
}

async function post(url: string, body: unknown): Promise<{ status: number; body: any; ms: number }> {
  const t0 = performance.now();
  const res = await fetch(`${url}/api/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const json = await res.json().catch(() => null);
  return { status: res.status, body: json, ms: performance.now() - t0 };
}

before(async () => {
  store = openStore({ path: join(dir, 'lat.sqlite') });
  backend = await createBackend('ort-node', { threads: 1 });
  const device = await fingerprint(backend.info);
  deviceId = device.id;
  await store.upsertDevice(device);
  archs = sampleArchs(SPACE, { count: 12, seed: 0 });
  const stored = await profile([...opItems(SPACE.name, spaceUnits(SPACE)), ...networkItems(SPACE, archs)]);
  assert.equal(stored, spaceUnits(SPACE).size + 12);
  // a busy test machine may measure some ops disturbed: stored, but kept out of the LUT
  usableOps = new Set((await store.listMeasurements({ deviceId, level: 'op' })).filter(isUsable).map((m) => m.key));
  collector = await startCollector({ store, token: TOKEN, port: 0, host: '127.0.0.1' });
});

after(async () => {
  for (const o of others) await o.close();
  await collector?.close();
  await backend?.dispose();
  store?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('POST /api/predict: one architecture → latency with its band, LUT sum and a breakdown of LUT keys; then served from the cache', async () => {
  const builds = collector.predictors.builds;
  const first = await post(collector.url, { device: deviceId, space: SPACE.name, arch: archs[0] });
  assert.equal(first.status, 200, JSON.stringify(first.body));
  const p = first.body;
  assert.equal(p.device, deviceId);
  assert.equal(p.space, 'nasbench201');
  assert.equal(p.arch, archs[0]);
  // the band contains the prediction (high_ms null would mean unbounded)
  assert.ok(p.latency_ms > 0 && Number.isFinite(p.latency_ms), `latency ${p.latency_ms}`);
  assert.ok(p.low_ms <= p.latency_ms && (p.high_ms === null || p.latency_ms <= p.high_ms), `${p.low_ms} ≤ ${p.latency_ms} ≤ ${p.high_ms}`);
  assert.ok(p.lut_sum_ms > 0, `LUT sum ${p.lut_sum_ms}`);
  assert.equal(p.kind, 'composite', '12 networks train the composite');
  assert.equal(p.predictor.source, 'store');
  assert.ok(p.predictor.networks >= 2, 'trained on network measurements');
  assert.equal(p.predictor.measurements, spaceUnits(SPACE).size + 12);
  const units = spaceUnits(SPACE);
  const lutRows = p.breakdown.filter((r: any) => r.source === 'lut');
  assert.ok(lutRows.length > 0, 'some units are LUT hits');
  for (const row of p.breakdown) {
    assert.ok(row.source === 'lut' || row.source === 'regressor', row.source);
    assert.ok(Number.isFinite(row.ms), `${row.key}: ${row.ms}`);
  }
  for (const row of lutRows) {
    assert.ok(units.has(row.key), `LUT key '${row.key}' is a unit of the space`);
    assert.ok(row.ms > 0, `${row.key}: ${row.ms}`);
  }
  assert.deepEqual(new Set(lutRows.map((r: any) => r.key)), new Set([...units.keys()].filter((k) => usableOps.has(k) && p.breakdown.some((r: any) => r.key === k))), 'every unit of the arch measured undisturbed is a LUT hit');
  // the hand-written serialisation of the breakdown is JSON.stringify's, byte for byte
  const own = (await collector.predictors.get(deviceId, SPACE.name)).predict(archs[0] as string);
  assert.equal(breakdownJson(own.breakdown), JSON.stringify(own.breakdown));
  assert.deepEqual(p.breakdown, JSON.parse(JSON.stringify(own.breakdown)), 'the response holds the predictor\'s breakdown, every field');
  const odd = [{ position: 'fixed', choice: null, key: 'a "quoted"\\key\n\u2028', ms: 1e-7, source: 'lut' as const }, { position: 'p', choice: 'c', key: 'k', ms: NaN, source: 'regressor' as const }];
  assert.equal(breakdownJson(odd), JSON.stringify(odd));
  assert.equal(breakdownJson([]), '[]');
  const sum = p.breakdown.reduce((a: number, r: any) => a + r.ms, 0);
  assert.ok(Math.abs(sum - p.lut_sum_ms) < 1e-9 * Math.max(1, sum), `breakdown sums to the LUT sum: ${sum} vs ${p.lut_sum_ms}`);
  assert.equal(collector.predictors.builds, builds + 1);

  const second = await post(collector.url, { device: deviceId, space: SPACE.name, arch: archs[0] });
  assert.equal(second.status, 200);
  assert.deepEqual(second.body, p, 'same predictor, same answer');
  assert.equal(collector.predictors.builds, builds + 1, 'served from the cache');
  assert.ok(second.ms < 1000, `cached request took ${second.ms.toFixed(1)} ms (first, with training, ${first.ms.toFixed(0)} ms)`);

  // the other kinds and a current calibration
  const lut = await post(collector.url, { device: deviceId, space: SPACE.name, arch: archs[0], kind: 'lut-sum', breakdown: false });
  assert.equal(lut.status, 200);
  assert.equal(lut.body.breakdown, undefined);
  assert.equal(lut.body.kind, 'lut-sum');
  assert.ok(lut.body.latency_ms > 0, `LUT sum ${lut.body.latency_ms}`);
  assert.ok(Math.abs(lut.body.latency_ms - p.lut_sum_ms) < 1e-9, `${lut.body.latency_ms} vs ${p.lut_sum_ms}`);
  const slow = await post(collector.url, { device: deviceId, space: SPACE.name, arch: archs[0], calibration_ms: 2 * p.calibration_ms });
  assert.ok(Math.abs(slow.body.latency_ms - 2 * p.latency_ms) < 1e-9 * p.latency_ms, 'twice the calibration, twice the latency');
  const enc = await post(collector.url, { device: deviceId, space: SPACE.name, arch: archs[0], kind: 'encoding-mlp' });
  assert.equal(enc.status, 400);
  assert.equal(enc.body.field, 'kind');
});

test('POST /api/predict: a batch returns one latency per architecture, equal to the single predictions', async () => {
  const batch = await post(collector.url, { device: deviceId, space: SPACE.name, archs });
  assert.equal(batch.status, 200, JSON.stringify(batch.body));
  assert.equal(batch.body.kind, 'composite');
  assert.equal(batch.body.latency_ms.length, archs.length);
  for (const ms of batch.body.latency_ms) assert.ok(ms > 0 && Number.isFinite(ms), `latency ${ms}`);
  const one = await post(collector.url, { device: deviceId, space: SPACE.name, arch: archs[3], breakdown: false });
  assert.ok(Math.abs(one.body.latency_ms - batch.body.latency_ms[3]) < 1e-9, `${one.body.latency_ms} vs ${batch.body.latency_ms[3]}`);
  const lut = await post(collector.url, { device: deviceId, space: SPACE.name, archs, kind: 'lut-sum' });
  assert.equal(lut.body.kind, 'lut-sum');
  for (const ms of lut.body.latency_ms) assert.ok(ms > 0, 'LUT sums are positive');
  // a large batch (unseen architectures) in one request
  const many = sampleArchs(SPACE, { count: 2000, seed: 9 });
  const big = await post(collector.url, { device: deviceId, space: SPACE.name, archs: many });
  assert.equal(big.status, 200);
  assert.equal(big.body.latency_ms.length, 2000);
  assert.ok(big.body.latency_ms.every((ms: number) => ms > 0), 'every unseen architecture gets a positive latency');
});

test('POST /api/predict: new measurements of the device invalidate its predictor; concurrent requests share one build', async () => {
  const before = await post(collector.url, { device: deviceId, space: SPACE.name, arch: archs[0], breakdown: false });
  const builds = collector.predictors.builds;
  const stored = await profile(networkItems(SPACE, sampleArchs(SPACE, { count: 3, seed: 1 })));
  assert.equal(stored, 3);
  const answers = await Promise.all(Array.from({ length: 6 }, () => post(collector.url, { device: deviceId, space: SPACE.name, arch: archs[0], breakdown: false })));
  assert.equal(collector.predictors.builds, builds + 1, 'six concurrent requests, one build');
  for (const a of answers) {
    assert.equal(a.status, 200);
    assert.deepEqual(a.body, answers[0]?.body);
  }
  const after = answers[0]?.body;
  assert.equal(after.predictor.measurements, before.body.predictor.measurements + 3);
  assert.notEqual(after.predictor.created_at, before.body.predictor.created_at, 'a new predictor');
  const again = await post(collector.url, { device: deviceId, space: SPACE.name, arch: archs[0], breakdown: false });
  assert.deepEqual(again.body, after);
  assert.equal(collector.predictors.builds, builds + 1);
});

test('POST /api/predict: bad requests are 400 naming the field, unknown devices and unmeasured spaces 404', async () => {
  const url = collector.url;
  const cases: Array<[unknown, number, string | undefined, RegExp]> = [
    [{ space: SPACE.name, arch: archs[0] }, 400, 'device', /device/],
    [{ device: deviceId, arch: archs[0] }, 400, 'space', /space/],
    [{ device: deviceId, space: SPACE.name }, 400, 'arch', /exactly one of 'arch'.*'archs'/],
    [{ device: deviceId, space: SPACE.name, arch: archs[0], archs }, 400, 'arch', /exactly one/],
    [{ device: deviceId, space: SPACE.name, arch: 42 }, 400, 'arch', /string/],
    [{ device: deviceId, space: SPACE.name, arch: archs[0], kind: 'best' }, 400, 'kind', /lut-sum/],
    [{ device: deviceId, space: SPACE.name, arch: archs[0], calibration_ms: -1 }, 400, 'calibration_ms', /calibration_ms/],
    [{ device: deviceId, space: 'nope', arch: archs[0] }, 400, 'space', /unknown space 'nope'; known: .*nasbench201/],
    [{ device: 'dev-000000000000', space: SPACE.name, arch: archs[0] }, 404, undefined, /unknown device 'dev-000000000000'/],
    [{ device: deviceId, space: 'fbnet', arch: Array(22).fill('k3_e1').join('-') }, 404, undefined, /no measurements for space 'fbnet'/],
    // an FBNet arch string for NAS-Bench-201: the space's parse error
    [{ device: deviceId, space: SPACE.name, arch: Array(22).fill('k3_e1').join('-') }, 400, 'arch', /invalid nasbench201 architecture/],
    [{ device: deviceId, space: SPACE.name, archs: [archs[0], 'k3_e1-skip'] }, 400, 'archs.1', /invalid nasbench201 architecture 'k3_e1-skip'/],
    [{ device: deviceId, space: SPACE.name, archs: Array(10_001).fill(archs[0]) }, 400, 'archs', /10000/],
    [{ device: deviceId, space: SPACE.name, archs: [] }, 400, 'archs', /archs/],
  ];
  for (const [body, status, field, message] of cases) {
    const r = await post(url, body);
    assert.equal(r.status, status, `${JSON.stringify(body).slice(0, 120)} → ${JSON.stringify(r.body)}`);
    assert.equal(r.body.field, field, JSON.stringify(r.body));
    assert.match(r.body.error, message);
  }
  // a space without measurements is a 404 that stands until the device's measurements change: not rebuilt per request
  const builds = collector.predictors.builds;
  const again = await post(url, { device: deviceId, space: 'fbnet', arch: Array(22).fill('k3_e1').join('-') });
  assert.equal(again.status, 404);
  assert.equal(collector.predictors.builds, builds);
  const badJson = await post(url, '{"device": ');
  assert.equal(badJson.status, 400);
  assert.match(badJson.body.error, /not valid JSON/);
  const empty = await post(url, '');
  assert.equal(empty.status, 400);
  const get = await fetch(`${url}/api/predict`);
  assert.equal(get.status, 405);
});

test('GET /api/devices/:id/lut: proxyless yaml and csv parse back with the lut formats and hold the predictor\'s LUT', async () => {
  const units = spaceUnits(SPACE);
  const p = (await post(collector.url, { device: deviceId, space: SPACE.name, arch: archs[0] })).body;
  for (const format of ['proxyless', 'csv'] as const) {
    const res = await fetch(`${collector.url}/api/devices/${deviceId}/lut?format=${format}&space=${SPACE.name}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), format === 'csv' ? 'text/csv; charset=utf-8' : 'application/yaml; charset=utf-8');
    assert.equal(res.headers.get('content-disposition'), `attachment; filename="lut-${deviceId}-nasbench201${format === 'csv' ? '.csv' : '.yaml'}"`);
    const entries = LUT_FORMATS[format].parse(await res.text());
    assert.deepEqual(new Set(entries.keys()), new Set([...units.keys()].filter((k) => usableOps.has(k))), 'one entry per layer key of the space measured undisturbed');
    for (const e of entries.values()) assert.ok(e.mean > 0 && e.count >= 1, `${e.key}: mean ${e.mean}, count ${e.count}`);
    // normalised to the same reference calibration: the medians are the predictor's LUT values
    for (const row of p.breakdown.filter((r: any) => r.source === 'lut')) {
      const e = entries.get(row.key);
      assert.ok(e && Math.abs(e.median - row.ms) <= 1e-9 * row.ms, `${row.key}: ${e?.median} vs ${row.ms}`);
    }
  }
  const all = await fetch(`${collector.url}/api/devices/${deviceId}/lut?format=csv`);
  assert.equal(all.status, 200);
  assert.equal(all.headers.get('content-disposition'), `attachment; filename="lut-${deviceId}.csv"`);
  assert.equal(LUT_FORMATS.csv.parse(await all.text()).size, usableOps.size);

  const bad = async (query: string, status: number, message: RegExp, id = deviceId) => {
    const res = await fetch(`${collector.url}/api/devices/${id}/lut?${query}`);
    const body = (await res.json()) as { error: string };
    assert.equal(res.status, status, `${query}: ${JSON.stringify(body)}`);
    assert.match(body.error, message);
  };
  await bad('format=fbnet&space=nasbench201', 400, /fbnet LUT format cannot express space 'nasbench201'/);
  await bad('format=fbnet', 400, /needs '&space=NAME'/);
  await bad('format=onnx', 400, /unknown LUT format 'onnx'; known: proxyless, fbnet, csv/);
  await bad('format=csv&space=nope', 400, /unknown space 'nope'/);
  await bad('format=csv', 404, /unknown device 'dev-000000000000'/, 'dev-000000000000');
  await bad('format=csv&space=fbnet', 404, /no op-level measurements for the layers of space 'fbnet'/);
});

test('preloaded predictors (hwlat serve --model DIR) are served as they are, also for devices the store lacks', async () => {
  const trained = await collector.predictors.get(deviceId, SPACE.name);
  const modelDir = join(dir, 'model');
  await savePredictor(trained, modelDir);
  const loaded = await loadPredictor(modelDir);
  const expected = (await post(collector.url, { device: deviceId, space: SPACE.name, arch: archs[5], breakdown: false })).body;

  // a collector over an empty database: only the preloaded predictor knows the device
  const emptyStore = openStore({ path: join(dir, 'empty.sqlite') });
  others.push(emptyStore);
  const c2 = await startCollector({ store: emptyStore, token: TOKEN, port: 0, host: '127.0.0.1', predictors: [loaded] });
  others.unshift(c2);
  const r = await post(c2.url, { device: deviceId, space: SPACE.name, arch: archs[5], breakdown: false });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.predictor.source, 'preloaded');
  assert.equal(r.body.predictor.measurements, null);
  assert.ok(Math.abs(r.body.latency_ms - expected.latency_ms) < 1e-9 * expected.latency_ms, `${r.body.latency_ms} vs ${expected.latency_ms}`);
  assert.equal(c2.predictors.builds, 0, 'nothing trained');
  const other = await post(c2.url, { device: deviceId, space: 'fbnet', arch: Array(22).fill('k3_e1').join('-') });
  assert.equal(other.status, 404, 'other spaces of the device still come from the (empty) store');

  // with the device's measurements in the store, the preloaded predictor still wins
  const c3 = await startCollector({ store, token: TOKEN, port: 0, host: '127.0.0.1', predictors: [loaded] });
  others.unshift(c3);
  const r3 = await post(c3.url, { device: deviceId, space: SPACE.name, arch: archs[5], breakdown: false });
  assert.equal(r3.body.predictor.source, 'preloaded');
  assert.equal(c3.predictors.builds, 0);

  await assert.rejects(startCollector({ store, token: TOKEN, port: 0, host: '127.0.0.1', predictors: [loaded, loaded] }), /two preloaded predictors for device/);
});
