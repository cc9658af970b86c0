import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { openStore, startCollector, type Collector, type SqliteStore } from '../../collector/index.ts';
import { LatencyModel, type LatencyPredictor } from '../../predictor/index.ts';
import { syntheticPredictor } from '../helpers/latency-model.ts';

// A real collector on 127.0.0.1 serving a preloaded FBNet predictor (trained here on synthetic
// measurements): POST /api/latency/expected returns E[latency] and its gradient.
const dir = mkdtempSync(join(tmpdir(), 'hwlat-latency-api-'));
let store: SqliteStore;
let collector: Collector;
let predictor: LatencyPredictor;

async function post(body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${collector.url}/api/latency/expected`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json().catch(() => null) };
}

before(async () => {
  predictor = await syntheticPredictor('fbnet', { epochs: 20, encoding: false });
  store = openStore({ path: join(dir, 'lat.sqlite') });
  collector = await startCollector({ store, token: 'latency-secret-0123456789', port: 0, host: '127.0.0.1', predictors: [predictor] });
});
after(async () => {
  await collector?.close();
  store?.close();
  rmSync(dir, { recursive: true, force: true });
});

const uniform = () => Array.from({ length: 22 }, () => Array.from({ length: 9 }, () => 1 / 9));

test('POST /api/latency/expected: E[latency] and its gradient, as the TypeScript model computes them', async () => {
  const device = predictor.data.deviceId;
  const r = await post({ device, space: 'fbnet', probs: uniform() });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const local = LatencyModel.fromPredictor(predictor).valueAndGrad(uniform());
  assert.ok(Math.abs(r.body.latency_ms / local.latencyMs - 1) < 1e-6, `${r.body.latency_ms} vs ${local.latencyMs}`);
  assert.equal(r.body.grad.length, 22);
  assert.equal(r.body.grad[0].length, 9);
  assert.deepEqual(r.body.grad, local.grad);
  assert.equal(r.body.kind, predictor.data.chosen);
  // a one-hot grid is the architecture's prediction; the gradient points at the costly candidates
  const idx = new Int32Array(22).fill(3);
  const oh = Array.from({ length: 22 }, () => Array.from({ length: 9 }, (_, i) => (i === 3 ? 1 : 0)));
  const one = await post({ device, space: 'fbnet', probs: oh, kind: 'lut-sum' });
  assert.equal(one.status, 200);
  assert.ok(Math.abs(one.body.latency_ms / (predictor.predictIndices([idx], 'lut-sum')[0] as number) - 1) < 1e-6);
  // lut-sum's gradient is the LUT itself: k5_e6 costs more than k3_e1 in every layer
  assert.ok(one.body.grad.every((row: number[]) => (row[7] as number) > (row[0] as number)));
});

test('bad requests: 400 naming the field, 404 for an unknown device', async () => {
  const device = predictor.data.deviceId;
  const bad = uniform();
  (bad[4] as number[])[2] = -0.2;
  const cases: Array<[unknown, number, string | undefined, RegExp]> = [
    [{ device, space: 'fbnet', probs: uniform().slice(2) }, 400, 'probs', /shape \[22, 9\].*got \[20, 9\]/],
    [{ device, space: 'fbnet', probs: bad }, 400, 'probs', /'probs\[4\]\[2\]' is -0\.2/],
    [{ device, space: 'fbnet', probs: uniform().map((r) => r.map((v) => v * 2)) }, 400, 'probs', /row 0 \(layer0\) sums to 2/],
    [{ device, space: 'fbnet' }, 400, 'probs', /probs/],
    [{ device, space: 'nope', probs: uniform() }, 400, 'space', /unknown space 'nope'/],
    [{ device: 'dev-000000000000', space: 'fbnet', probs: uniform() }, 404, undefined, /unknown device 'dev-000000000000'/],
  ];
  for (const [body, status, field, re] of cases) {
    const r = await post(body);
    assert.equal(r.status, status, JSON.stringify(r.body));
    assert.match(r.body.error, re);
    if (field) assert.equal(r.body.field, field);
  }
});
