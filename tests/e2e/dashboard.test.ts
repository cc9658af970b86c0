import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  CALIBRATION_KEY, createBackend, fingerprint, networkItems, opItems, profileItems, runAgent, type RuntimeBackend,
} from '../../agent/index.ts';
import { openStore, startCollector, type Collector, type SqliteStore } from '../../collector/index.ts';
import {
  writePredictorBundle, type AccuracyView, type DashboardSnapshot, type DeviceQualityView, type DeviceSummaryView, type DeviceView, type LutTableView, type PredictorBundle,
} from '../../collector/server/dashboard/index.ts';
import { summariseQuality } from '../../conditions/index.ts';
import { LUT_FORMATS } from '../../lut/index.ts';
import { buildOnnx, getSpace, lowerNetwork, sampleArchs, spaceUnits, specKey } from '../../ops-library/index.ts';
import { loadPredictor } from '../../predictor/index.ts';
import { predictOnnx } from '../../predictor/onnx/index.ts';
import type { DeviceProfile, Measurement, MeasurementQuality } from '../../protocol/index.ts';
import { browserUnavailable, launchBrowser } from '../helpers/browser.ts';

// A real collector in-process on 127.0.0.1 over a real SQLite file holding a real (short) profile of
// NAS-Bench-201 on this machine (every layer key, 24 sampled networks); a real in-process agent
// over ws for the live campaign; real headless Chromium for the page.
const TOKEN = 'dashboard-secret';
const SPACE = getSpace('nasbench201');
const QUICK = { batch: 1, warmup: 0, minRepeats: 3, minTimeMs: 0 };
const dir = mkdtempSync(join(tmpdir(), 'hwlat-dashboard-'));
let store: SqliteStore;
let backend: RuntimeBackend;
let collector: Collector;
let deviceId: string;
let deviceName: string;
let archs: string[];

async function profile(items: Parameters<typeof profileItems>[0]): Promise<number> {
  const passId = `pass-${randomUUID()}`;
  await store.startPass({ id: passId, deviceId, startedAt: new Date().toISOString(), finishedAt: null, calibrationKey: CALIBRATION_KEY, calibrationMs: null, calibrationTrace: [] });
  let stored = 0;
  const result = await profileItems(items, { backend, deviceId, passId, ...QUICK, onMeasurements: async (ms) => {
    stored += (await store.insertMeasurements(ms)).inserted;
  } });
  await store.finishPass(passId, { finishedAt: new Date().toISOString(), calibrationMs: result.calibrationMs, calibrationTrace: result.calibrationTrace });
  return stored;
}

// A device whose stored measurements carry quality verdicts: 10 groups (one pass, one calibration
// figure per group) of 3 op measurements each. Groups 0, 1 and 5 hold disturbed measurements (3 + 1
// + 1), groups 2, 3 and 4 a re-measured one (group 5 too, but disturbed outranks it), group 6 says
// clean explicitly, the rest carry no verdict (stored before verdicts: clean).
const QUALITY_DEVICE = 'dev-bad0da7a0001';
const DISTURBED: MeasurementQuality = { verdict: 'disturbed', rounds: 0, discardedRounds: 21, evidence: ['calibration 1.8× its baseline in 21 of 21 rounds'] };
const REMEASURED: MeasurementQuality = { verdict: 'remeasured', rounds: 21, discardedRounds: 4, evidence: ['calibration 1.5× its baseline in 4 rounds'] };
const CLEAN: MeasurementQuality = { verdict: 'clean', rounds: 21, discardedRounds: 0, evidence: [] };
const QUALITY_EXPECTED: DeviceQualityView = {
  verdict: 'unreliable',
  text: 'unreliable: 30% of groups re-measured, 30% disturbed (5 measurements left out), cv 0.05',
  groups: 10,
  remeasured_groups: 3,
  disturbed_groups: 3,
  disturbed_measurements: 5,
  median_cv: 0.05,
};

function testDevice(id: string, name: string): DeviceProfile {
  return {
    id, name,
    hardware: { cpu: 'Test CPU', cores: 4, physicalCores: 2, memoryBytes: 8 * 2 ** 30, os: 'linux 6.1', arch: 'x64', gpus: [], host: 'box' },
    runtime: { backend: 'ort-node', provider: 'cpu', version: '1.30.0', threads: 1 },
  };
}

function qualityMeasurement(passId: string, g: number, j: number, quality?: MeasurementQuality): Measurement {
  const cv = quality?.verdict === 'disturbed' ? 0.4 : 0.05;
  const stats = { median: 1 + g / 10, mean: 1 + g / 10, p10: 0.9, p90: 1.5 + g / 10, stddev: cv * (1 + g / 10), min: 0.85, cv, repeats: 20, outliers: 1 };
  return {
    id: `${passId}-g${g}-m${j}`,
    deviceId: QUALITY_DEVICE, passId, level: 'op', space: null, key: `quality-fixture-g${g}-m${j}`,
    batch: 1, warmup: 2, stats, wallMs: 50,
    calibrationMs: 3 + g / 100,
    ...(g === 7 && j === 0 ? { cold: { ...stats, median: 2 * stats.median, p90: 2 * stats.p90, repeats: 5 } } : {}),
    ...(quality ? { quality } : {}),
    createdAt: `2025-01-01T00:00:${String(3 * g + j).padStart(2, '0')}.000Z`,
  };
}

/** Stores QUALITY_DEVICE with its 30 measurements; returns them. */
async function seedQualityDevice(s: SqliteStore): Promise<Measurement[]> {
  await s.upsertDevice(testDevice(QUALITY_DEVICE, 'noisy-box'));
  const passId = 'pass-quality-fixture';
  await s.startPass({ id: passId, deviceId: QUALITY_DEVICE, startedAt: '2025-01-01T00:00:00.000Z', finishedAt: null, calibrationKey: CALIBRATION_KEY, calibrationMs: null, calibrationTrace: [] });
  const verdicts: Record<number, Array<MeasurementQuality | undefined>> = {
    0: [DISTURBED, DISTURBED, DISTURBED],
    1: [DISTURBED],
    2: [REMEASURED],
    3: [REMEASURED],
    4: [REMEASURED],
    5: [REMEASURED, DISTURBED],
    6: [CLEAN, CLEAN, CLEAN],
  };
  const ms = Array.from({ length: 10 }, (_, g) => [0, 1, 2].map((j) => qualityMeasurement(passId, g, j, verdicts[g]?.[j]))).flat();
  assert.equal((await s.insertMeasurements(ms)).inserted, ms.length);
  return ms;
}

async function get(path: string): Promise<{ status: number; body: any; res: Response }> {
  const res = await fetch(`${collector.url}${path}`);
  const text = await res.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body, res };
}

/** Reads server-sent events from /api/events. */
class EventReader {
  readonly snapshots: DashboardSnapshot[] = [];
  private readonly ctl = new AbortController();
  private waiters: Array<() => void> = [];
  readonly done: Promise<void>;
  contentType = '';

  constructor(url: string) {
    this.done = (async () => {
      const res = await fetch(`${url}/api/events`, { signal: this.ctl.signal });
      this.contentType = res.headers.get('content-type') ?? '';
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      const dec = new TextDecoder();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buf += dec.decode(value, { stream: true });
        let end: number;
        while ((end = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, end);
          buf = buf.slice(end + 2);
          const lines = block.split('\n');
          if (lines.includes('event: snapshot')) {
            const data = lines.find((l) => l.startsWith('data: '));
            this.snapshots.push(JSON.parse((data as string).slice(6)));
            this.waiters.forEach((w) => w());
          }
        }
      }
    })().catch((e: Error) => {
      if (e.name !== 'AbortError') throw e;
    });
  }

  wait(pred: (s: DashboardSnapshot) => boolean, timeoutMs: number, what: string): Promise<DashboardSnapshot> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const hit = this.snapshots.find(pred);
        if (hit) {
          clearTimeout(timer);
          this.waiters = this.waiters.filter((w) => w !== check);
          resolve(hit);
        }
      };
      const timer = setTimeout(() => reject(new Error(`no snapshot with ${what} in ${timeoutMs} ms; last: ${JSON.stringify(this.snapshots.at(-1))?.slice(0, 600)}`)), timeoutMs);
      this.waiters.push(check);
      check();
    });
  }

  close(): void {
    this.ctl.abort();
  }
}

before(async () => {
  process.env.HWLAT_DASHBOARD_POLL_MS = '150';
  store = openStore({ path: join(dir, 'lat.sqlite') });
  backend = await createBackend('ort-node', { threads: 1 });
  const device = await fingerprint(backend.info);
  deviceId = device.id;
  deviceName = device.name;
  await store.upsertDevice(device);
  archs = sampleArchs(SPACE, { count: 24, seed: 3 });
  const stored = await profile([...opItems(SPACE.name, spaceUnits(SPACE)), ...networkItems(SPACE, archs)]);
  assert.equal(stored, spaceUnits(SPACE).size + archs.length);
  collector = await startCollector({ store, token: TOKEN, port: 0, host: '127.0.0.1' });
});

after(async () => {
  await collector?.close();
  await backend?.dispose();
  store?.close();
  delete process.env.HWLAT_DASHBOARD_POLL_MS;
  rmSync(dir, { recursive: true, force: true });
});

test('dashboard assets: the page, its bundled script and Vega/Vega-Lite from node_modules; nothing else is reachable', async () => {
  const page = await get('/');
  assert.equal(page.status, 200);
  assert.match(page.res.headers.get('content-type') ?? '', /text\/html/);
  for (const src of ['/dashboard/vega.min.js', '/dashboard/vega-lite.min.js', '/dashboard/app.js']) assert.ok(page.body.includes(`src="${src}"`), src);
  assert.ok(!/https?:\/\//.test(page.body.replace(/<!doctype[^>]*>/i, '')), 'no external URL (no CDN) in the page');
  const app = await get('/dashboard/app.js');
  assert.equal(app.status, 200);
  assert.match(app.res.headers.get('content-type') ?? '', /javascript/);
  assert.ok(app.body.includes('/api/events') && app.body.length > 2000, 'the bundled page script');
  const vega = await get('/dashboard/vega.min.js');
  assert.equal(vega.status, 200);
  assert.ok(vega.body.length > 100_000, 'vega browser build');
  for (const bad of ['/dashboard/..%2Fpackage.json', '/dashboard/..%2F..%2F..%2Fpackage.json', '/dashboard/nope.js', '/dashboard/main.ts']) {
    const r = await get(bad);
    assert.equal(r.status, 404, bad);
    assert.match(r.body.error, /unknown dashboard asset '.*'; known: index\.html, style\.css, app\.js, vega\.min\.js, vega-lite\.min\.js/);
  }
  assert.equal((await get('/dashboard/../package.json')).status, 404);
});

test('GET /api/dashboard/devices/:id: counts per level and space, LUT coverage; bad ids and spaces are 404/400 with a message', async () => {
  const s = (await get(`/api/dashboard/devices/${deviceId}`)).body as DeviceSummaryView;
  assert.equal(s.device.id, deviceId);
  assert.equal(s.device.measurements, spaceUnits(SPACE).size + archs.length);
  assert.deepEqual(s.counts, [
    { level: 'op', space: 'nasbench201', count: spaceUnits(SPACE).size },
    { level: 'network', space: 'nasbench201', count: archs.length },
  ]);
  const nb = s.coverage.find((c) => c.space === 'nasbench201');
  assert.deepEqual(nb, { space: 'nasbench201', measured: spaceUnits(SPACE).size, total: spaceUnits(SPACE).size, networks: archs.length });
  const fb = s.coverage.find((c) => c.space === 'fbnet');
  assert.equal(fb?.total, spaceUnits(getSpace('fbnet')).size);
  assert.equal(s.defaultSpace, 'nasbench201');

  const cases: Array<[string, number, RegExp, string?]> = [
    ['/api/dashboard/devices/dev-000000000000', 404, /unknown device 'dev-000000000000'; known: dev-/],
    ['/api/dashboard/devices/nope/lut-table?space=nasbench201', 404, /unknown device 'nope'/],
    [`/api/dashboard/devices/${deviceId}/lut-table`, 400, /space: '\?space=NAME' is required/, 'space'],
    [`/api/dashboard/devices/${deviceId}/lut-table?space=nope`, 400, /space: unknown space 'nope'; known: .*nasbench201/, 'space'],
    [`/api/dashboard/devices/${deviceId}/accuracy?space=`, 400, /required/, 'space'],
    [`/api/dashboard/devices/${deviceId}/accuracy?space=fbnet`, 404, /0 network measurements of space 'fbnet'; the accuracy view needs at least 10/],
    ['/api/dashboard/devices/dev-000000000000/accuracy?space=nasbench201', 404, /unknown device/],
    [`/api/devices/${deviceId}/model`, 400, /required/, 'space'],
    [`/api/devices/${deviceId}/model?space=fbnet`, 404, /no measurements for space 'fbnet'/],
    ['/api/devices/dev-000000000000/model?space=nasbench201', 404, /unknown device 'dev-000000000000'/],
  ];
  for (const [path, status, message, field] of cases) {
    const r = await get(path);
    assert.equal(r.status, status, `${path}: ${JSON.stringify(r.body)}`);
    assert.match(r.body.error, message, path);
    assert.equal(r.body.field, field, path);
  }
});

test('GET /api/devices: each device with the quality of its measurements (snake_case), recomputed as they grow; GET /api/measurements carries quality and cold', async () => {
  const qstore = openStore({ path: join(dir, 'quality.sqlite') });
  const ms = await seedQualityDevice(qstore);
  await qstore.upsertDevice(testDevice('dev-e3e3e3e3e3e3', 'empty-box'));
  const qc = await startCollector({ store: qstore, token: TOKEN, port: 0, host: '127.0.0.1' });
  try {
    const devicesOf = async () => ((await (await fetch(`${qc.url}/api/devices`)).json()) as { devices: DeviceView[] }).devices;
    const [noisy, empty, ...rest] = await devicesOf();
    assert.deepEqual(rest, []);
    assert.deepEqual(noisy?.quality, QUALITY_EXPECTED);
    assert.equal(noisy.quality.text, summariseQuality(ms).text, 'the same line as conditions/quality.ts');
    // the existing fields are as they were
    const { quality: _q, ...plain } = noisy;
    assert.deepEqual(plain, { ...testDevice(QUALITY_DEVICE, 'noisy-box'), measurements: 30 });
    assert.deepEqual(plain, (await qstore.listDevices())[0]);
    assert.deepEqual(empty?.quality, { verdict: 'clean', text: 'clean: no measurements', groups: 0, remeasured_groups: 0, disturbed_groups: 0, disturbed_measurements: 0, median_cv: null });
    // the dashboard's device summary carries the same object
    const summary = (await (await fetch(`${qc.url}/api/dashboard/devices/${QUALITY_DEVICE}`)).json()) as DeviceSummaryView;
    assert.deepEqual(summary.quality, QUALITY_EXPECTED);

    // a new clean group: the figures follow (not a stale cached answer)
    assert.equal((await qstore.insertMeasurements([qualityMeasurement('pass-quality-fixture', 10, 0)])).inserted, 1);
    const grown = (await devicesOf())[0] as DeviceView;
    assert.deepEqual(grown.quality, {
      ...QUALITY_EXPECTED, groups: 11, text: 'unreliable: 27% of groups re-measured, 27% disturbed (5 measurements left out), cv 0.05',
    });
    assert.equal(grown.measurements, 31);

    const listed = ((await (await fetch(`${qc.url}/api/measurements?device=${QUALITY_DEVICE}&limit=100`)).json()) as { total: number; measurements: Measurement[] });
    assert.equal(listed.total, 31);
    const byId = new Map(listed.measurements.map((m) => [m.id, m]));
    for (const m of [...ms, qualityMeasurement('pass-quality-fixture', 10, 0)]) {
      const got = byId.get(m.id);
      assert.deepEqual(got?.quality, m.quality, `${m.id}: quality`);
      assert.deepEqual(got?.cold, m.cold, `${m.id}: cold`);
    }
    assert.deepEqual(byId.get('pass-quality-fixture-g0-m0')?.quality, DISTURBED);
    assert.ok(byId.get('pass-quality-fixture-g7-m0')?.cold?.median === 2 * (byId.get('pass-quality-fixture-g7-m0')?.stats.median as number));
    assert.ok(!('quality' in (byId.get('pass-quality-fixture-g8-m0') as object)), 'no verdict stored: none listed');
  } finally {
    await qc.close();
    await qstore.close();
  }
});

test('GET /api/dashboard/devices/:id/lut-table: positions × candidates, each the sum of its layers in the downloadable LUT', async () => {
  const t = (await get(`/api/dashboard/devices/${deviceId}/lut-table?space=nasbench201`)).body as LutTableView;
  assert.equal(t.space, 'nasbench201');
  assert.equal(t.entries, spaceUnits(SPACE).size);
  assert.deepEqual(t.positions, SPACE.positions.map((p) => p.name));
  assert.equal(t.cells.length, SPACE.positions.reduce((a, p) => a + p.choices.length, 0));
  const lut = LUT_FORMATS.csv.parse(await (await fetch(`${collector.url}/api/devices/${deviceId}/lut?format=csv&space=nasbench201`)).text());
  for (const p of SPACE.positions) {
    for (const c of p.choices) {
      const cell = t.cells.find((x) => x.position === p.name && x.choice === c.name);
      const expected = c.units.reduce((a, u) => a + (lut.get(specKey(u))?.median as number), 0);
      assert.ok(cell && cell.ms !== null && Math.abs(cell.ms - expected) <= 1e-9 * Math.max(1, expected), `${p.name}/${c.name}: ${cell?.ms} vs ${expected}`);
      assert.equal(cell.units, c.units.length);
      assert.equal(cell.measuredUnits, c.units.length);
    }
  }
  assert.ok((t.fixed.ms as number) > 0, 'the fixed layers (stem, head) are measured');
  const layer = (t.spec.layer as any[])[0];
  assert.equal(layer.mark.type, 'rect');
  assert.equal((t.spec.data as any).values.length, t.cells.length);
});

test('GET /api/dashboard/devices/:id/accuracy: held-out predicted vs measured with report.ts\'s specs; GET /api/devices/:id/model: a bundle that loads', async () => {
  const a = (await get(`/api/dashboard/devices/${deviceId}/accuracy?space=nasbench201`)).body as AccuracyView;
  assert.equal(a.networks, archs.length);
  const s = a.splits[0];
  assert.ok(s && s.split === 'same-pass' && s.testNetworks >= 2 && s.trainNetworks + s.testNetworks === archs.length, JSON.stringify(s?.split));
  assert.ok(s.metrics.composite && s.metrics['lut-sum'] && s.metrics['encoding-mlp'], 'every kind is evaluated');
  assert.ok(s.metrics.composite.mape >= 0 && Number.isFinite(s.metrics.composite.mape));
  const points = (s.scatter.layer as any[])[2].data.values as Array<{ measured: number; predicted: number; arch: string }>;
  assert.equal(points.length, 3 * s.testNetworks, 'one point per held-out network per kind');
  for (const p of points) assert.ok(archs.includes(p.arch) && p.measured > 0 && p.predicted > 0, JSON.stringify(p));
  assert.equal((s.scatter.layer as any[])[0].mark.type, 'area', 'the ±10% band');
  assert.equal((s.histogram.data as any).values.length, points.length);
  // cached until the device's measurements change
  const t0 = performance.now();
  const again = (await get(`/api/dashboard/devices/${deviceId}/accuracy?space=nasbench201`)).body;
  assert.deepEqual(again, a);
  assert.ok(performance.now() - t0 < 2000, 'served from the cache');

  const r = await get(`/api/devices/${deviceId}/model?space=nasbench201`);
  assert.equal(r.status, 200);
  assert.equal(r.res.headers.get('content-disposition'), `attachment; filename="model-${deviceId}-nasbench201.json"`);
  const bundle = r.body as PredictorBundle;
  assert.equal(bundle.format, 'hwlat-predictor-bundle/1');
  assert.equal(bundle.source, 'store');
  assert.ok(bundle.files['predictor.json'], 'the predictor metadata');
  const modelDir = join(dir, 'downloaded-model');
  writePredictorBundle(bundle, modelDir);
  const loaded = await loadPredictor(modelDir);
  const served = await (await fetch(`${collector.url}/api/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ device: deviceId, space: 'nasbench201', arch: archs[1], breakdown: false }) })).json() as any;
  assert.ok(Math.abs(loaded.predict(archs[1] as string).ms - served.latency_ms) <= 1e-9 * served.latency_ms, 'the downloaded model predicts what the server predicts');
  assert.throws(() => writePredictorBundle({ ...bundle, files: { ...bundle.files, '../x.json': { encoding: 'utf8', data: '{}' } } }, join(dir, 'evil')), /not a predictor file name/);
  assert.throws(() => writePredictorBundle({ ...bundle, format: 'x' } as unknown as PredictorBundle, join(dir, 'evil')), TypeError);
});

test('POST /api/predict/onnx: an ONNX model\'s kernels summed with the device\'s LUT and per-kernel regressors; bad uploads are 400/404', async (t) => {
  const bytes = buildOnnx(lowerNetwork(SPACE.expand(archs[0] as string)));
  const post = (query: string, body: Uint8Array | string) =>
    fetch(`${collector.url}/api/predict/onnx?${query}`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: body as RequestInit['body'] });
  const res = await post(`device=${deviceId}&space=nasbench201`, bytes);
  const p = (await res.json()) as any;
  assert.equal(res.status, 200, JSON.stringify(p));
  const own = predictOnnx(await collector.predictors.get(deviceId, 'nasbench201'), bytes);
  assert.ok(Math.abs(p.latency_ms - own.ms) <= 1e-9 * own.ms && p.latency_ms > 0, `${p.latency_ms} vs ${own.ms}`);
  assert.equal(p.kind, 'kernel-sum');
  assert.equal(p.kernels.length, own.kernels.length);
  assert.equal(p.lut_hits + p.regressor_kernels, p.kernels.length);
  const sum = p.kernels.reduce((a: number, k: any) => a + k.ms, 0);
  assert.ok(Math.abs(sum - p.latency_ms) <= 1e-9 * sum);
  for (const k of p.kernels) assert.ok(k.ms > 0 && Number.isFinite(k.ms) && (k.source === 'lut' || k.source === 'regressor'), JSON.stringify(k));
  const measured = (await store.listMeasurements({ deviceId, level: 'network', key: archs[0] }))[0]?.stats.median;
  t.diagnostic(`ONNX kernel sum ${p.latency_ms.toFixed(3)} ms (${p.lut_hits} LUT hits, ${p.regressor_kernels} regressor) vs measured ${measured?.toFixed(3)} ms`);
  const twice = (await (await post(`device=${deviceId}&space=nasbench201&calibration_ms=${2 * p.calibration_ms}`, bytes)).json()) as any;
  assert.ok(Math.abs(twice.latency_ms - 2 * p.latency_ms) <= 1e-9 * p.latency_ms, 'twice the calibration, twice the latency');

  const cases: Array<[string, Uint8Array | string, number, RegExp, string?]> = [
    [`space=nasbench201`, bytes, 400, /device: '\?device=ID' is required/, 'device'],
    // no kernels timed in context on this device, and no space to fall back on
    [`device=${deviceId}`, bytes, 404, /has no kernels timed in context/, 'device'],
    [`device=${deviceId}&space=nasbench201&calibration_ms=-1`, bytes, 400, /calibration_ms/, 'calibration_ms'],
    [`device=${deviceId}&space=nasbench201`, '', 400, /request body is empty/],
    [`device=${deviceId}&space=nasbench201`, 'definitely not protobuf', 400, /not an ONNX model/],
    [`device=dev-000000000000&space=nasbench201`, bytes, 404, /unknown device 'dev-000000000000'/],
    [`device=${deviceId}&space=fbnet`, bytes, 404, /no measurements for space 'fbnet'/],
  ];
  for (const [query, body, status, message, field] of cases) {
    const r = await post(query, body);
    const b = (await r.json()) as any;
    assert.equal(r.status, status, `${query}: ${JSON.stringify(b)}`);
    assert.match(b.error, message, query);
    assert.equal(b.field, field, query);
  }
});

test('GET /api/events: a snapshot on connect, then one per change as a real agent works through a campaign', async () => {
  const events = new EventReader(collector.url);
  try {
    const first = await events.wait(() => true, 10_000, 'a first snapshot');
    assert.match(events.contentType, /^text\/event-stream/);
    assert.deepEqual(first.campaigns, []);
    assert.deepEqual(first.devices, [{ id: deviceId, name: deviceName, measurements: spaceUnits(SPACE).size + archs.length }]);
    assert.equal(first.agents, 0);

    const res = await fetch(`${collector.url}/api/campaigns`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ space: 'nasbench201', networks: 3, seed: 11, devices: [deviceId], settings: QUICK, name: 'dashboard-live' }),
    });
    assert.equal(res.status, 201);
    const campaign = (await res.json()) as { id: string };
    const queued = await events.wait((s) => s.campaigns.some((c) => c.id === campaign.id), 10_000, 'the new campaign');
    const c0 = queued.campaigns.find((c) => c.id === campaign.id);
    assert.deepEqual([c0?.total, c0?.done, c0?.name, c0?.space], [3, 0, 'dashboard-live', 'nasbench201']);
    assert.ok(queued.seq > first.seq);

    const ctl = new AbortController();
    const agent = runAgent({ collector: collector.wsUrl, token: TOKEN, backend, device: (await fingerprint(backend.info)), stateDir: join(dir, 'agent'), maxJobs: 1, signal: ctl.signal });
    try {
      const connected = await events.wait((s) => s.agents === 1, 20_000, 'the agent online');
      assert.ok(connected.seq > queued.seq);
      const finished = await events.wait((s) => s.campaigns.some((c) => c.id === campaign.id && c.done === 3), 60_000, 'the campaign done');
      const c = finished.campaigns.find((x) => x.id === campaign.id);
      assert.deepEqual(c?.progress, [{ deviceId, total: 3, queued: 0, leased: 0, done: 3, failed: 0 }]);
      assert.equal(finished.devices[0]?.measurements, spaceUnits(SPACE).size + archs.length + 3, 'device counts move with the results');
      // jobs were leased one at a time: progress was pushed on the way, not only at the end
      const dones = new Set(events.snapshots.map((s) => s.campaigns.find((x) => x.id === campaign.id)?.done).filter((d) => d !== undefined));
      assert.ok(dones.size >= 3, `progress values seen: ${[...dones]}`);
      // nothing changes: nothing is sent
      const n = events.snapshots.length;
      await new Promise((r) => setTimeout(r, 600));
      assert.equal(events.snapshots.length, n, 'no snapshot without a change');
    } finally {
      ctl.abort();
      await agent;
    }
  } finally {
    events.close();
    await events.done;
  }
});

test('the dashboard in headless Chromium: devices, campaign progress, LUT heatmap, accuracy charts, a prediction round-trip; screenshot', async (t) => {
  const why = browserUnavailable();
  if (why) return t.skip(why);
  const browser = await launchBrowser();
  try {
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(collector.url);
    const row = page.locator(`#device-table tbody tr[data-device="${deviceId}"]`);
    await row.waitFor({ timeout: 20_000 });
    assert.match(await row.innerText(), new RegExp(`${deviceName}[\\s\\S]*ort-node · cpu · 1 thread`));
    // the device's data-quality line, as conditions/quality.ts words it (whatever this machine's profile got)
    const ownQuality = summariseQuality((await store.listMeasurements({ deviceId })));
    assert.equal(await row.locator('.quality').textContent(), ownQuality.text);
    assert.equal(await row.locator('.quality').getAttribute('data-verdict'), ownQuality.verdict);
    await page.locator(`#device-quality[data-verdict="${ownQuality.verdict}"]`).waitFor({ timeout: 20_000 });
    assert.equal(await page.locator('#device-quality').textContent(), ownQuality.text);
    // live over server-sent events: the campaign of the previous test with its progress
    await page.locator('#live:not(.off)').waitFor({ timeout: 10_000 });
    assert.match(await page.locator('.campaign[data-campaign] .campaign-done').first().innerText(), /3\/3 done/);
    await page.locator('.cov[data-space="nasbench201"]').waitFor();
    assert.match(await page.locator('.cov[data-space="nasbench201"]').innerText(), new RegExp(`${spaceUnits(SPACE).size}/${spaceUnits(SPACE).size}`));
    // charts: Vega renders SVG marks
    await page.locator('#lut-chart svg g.mark-rect.role-mark path').first().waitFor({ timeout: 20_000 });
    const cells = await page.locator('#lut-chart svg g.mark-rect.role-mark path').count();
    assert.equal(cells, SPACE.positions.reduce((a, p) => a + p.choices.length, 0), 'one heatmap cell per candidate');
    await page.locator('#acc-scatter svg g.mark-symbol.role-mark path').first().waitFor({ timeout: 60_000 });
    assert.ok((await page.locator('#acc-scatter svg g.mark-symbol.role-mark path').count()) >= 4, 'scatter points');
    assert.ok((await page.locator('#acc-hist svg g.mark-rect.role-mark path').count()) >= 1, 'histogram bars');
    assert.match(await page.locator('#acc-table').innerText(), /composite/);
    assert.equal(await page.locator('#acc-quality').textContent(), `measured data ${ownQuality.text}`);
    assert.ok((await page.locator('#downloads a[href*="format=proxyless"]').count()) === 1 && (await page.locator('#downloads a[href*="/model?space=nasbench201"]').count()) === 1);

    // a prediction through the form (POST /api/predict) renders the server's number
    await page.selectOption('#predict-space', 'nasbench201');
    await page.fill('#predict-arch', archs[2] as string);
    await page.click('#predict-submit');
    const out = page.locator('#predict-ms');
    await out.waitFor({ timeout: 30_000 });
    const shown = Number(await out.getAttribute('data-ms'));
    const direct = (await (await fetch(`${collector.url}/api/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ device: deviceId, space: 'nasbench201', arch: archs[2], breakdown: false }) })).json()) as any;
    assert.ok(Math.abs(shown - direct.latency_ms) <= 1e-9 * direct.latency_ms, `${shown} vs ${direct.latency_ms}`);
    assert.match(await out.innerText(), /^\d+(\.\d+)? ms$/);
    // a bad architecture shows the server's message
    await page.fill('#predict-arch', 'not-an-arch');
    await page.click('#predict-submit');
    await page.locator('#predict-error').waitFor({ timeout: 10_000 });
    assert.match(await page.locator('#predict-error').innerText(), /invalid nasbench201 architecture 'not-an-arch'/);
    await page.fill('#predict-arch', archs[2] as string);
    await page.click('#predict-submit');
    await out.waitFor({ timeout: 30_000 });

    // an ONNX upload through the form (POST /api/predict/onnx)
    const onnxPath = join(dir, 'net.onnx');
    writeFileSync(onnxPath, buildOnnx(lowerNetwork(SPACE.expand(archs[0] as string))));
    await page.setInputFiles('#predict-onnx', onnxPath);
    await page.click('#predict-onnx-submit');
    const onnxOut = page.locator('#predict-ms[data-source="onnx"]');
    await onnxOut.waitFor({ timeout: 30_000 });
    const viaOnnx = predictOnnx(await collector.predictors.get(deviceId, 'nasbench201'), buildOnnx(lowerNetwork(SPACE.expand(archs[0] as string))));
    const shownOnnx = Number(await onnxOut.getAttribute('data-ms'));
    assert.ok(Math.abs(shownOnnx - viaOnnx.ms) <= 1e-9 * viaOnnx.ms, `${shownOnnx} vs ${viaOnnx.ms}`);
    assert.match(await page.locator('#predict-result').innerText(), /net\.onnx · sum of \d+ kernels/);
    // back to the arch-string prediction for the screenshot
    await page.click('#predict-submit');
    await page.locator('#predict-ms:not([data-source])').waitFor({ timeout: 30_000 });

    const shotDir = process.env.HWLAT_TEST_ARTIFACTS ?? join(tmpdir(), 'hwlat-test-artifacts');
    mkdirSync(shotDir, { recursive: true });
    const shot = join(shotDir, 'dashboard.png');
    await page.screenshot({ path: shot, fullPage: true });
    assert.ok(statSync(shot).size > 20_000, 'a screenshot with content');
    t.diagnostic(`screenshot: ${shot}`);

    // a device with disturbed and re-measured data appears live; its quality line is a warning
    await seedQualityDevice(store);
    const noisyRow = page.locator(`#device-table tbody tr[data-device="${QUALITY_DEVICE}"]`);
    await noisyRow.waitFor({ timeout: 20_000 });
    const rowQuality = noisyRow.locator('.quality.warn[data-verdict="unreliable"]');
    assert.equal(await rowQuality.textContent(), QUALITY_EXPECTED.text);
    assert.match(await page.locator(`#device-select option[value="${QUALITY_DEVICE}"]`).innerText(), /noisy-box \(dev-bad0da7a0001\) · unreliable data/);
    await page.selectOption('#device-select', QUALITY_DEVICE);
    const detailQuality = page.locator('#device-quality.warn[data-verdict="unreliable"]');
    await detailQuality.waitFor({ timeout: 20_000 });
    assert.equal(await detailQuality.textContent(), QUALITY_EXPECTED.text);
    assert.equal(await detailQuality.evaluate((e) => getComputedStyle(e).color), 'rgb(231, 111, 81)', 'in the warning colour (--warn)');
    // nothing of the previous device's accuracy (nor its quality line) stays beside it
    await page.locator('#acc-quality').waitFor({ state: 'detached', timeout: 10_000 });
    assert.equal(await page.locator('#acc-scatter svg').count(), 0);
    const shotQuality = join(shotDir, 'dashboard-quality.png');
    await page.screenshot({ path: shotQuality, fullPage: true });
    t.diagnostic(`screenshot: ${shotQuality}`);
    assert.deepEqual(errors.filter((e) => !/status of 4\d\d/.test(e)), [], 'no errors in the page');
  } finally {
    await browser.close();
  }
});
