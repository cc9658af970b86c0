import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { initTf, LatencyModel, latencyJson } from '../../predictor/index.ts';
import { syntheticPredictor } from '../helpers/latency-model.ts';
import { withResidual } from './predictors.ts';
import { python, torchReady } from './torch-python.ts';

// python/examples/proxyless_search.py on a reduced budget: a ProxylessNAS-style PyTorch supernet
// over FBNet's space searched with and without hwlat's latency term, the found architectures
// trained, scored and measured through `hwlat profile --arch` (real onnxruntime runs here).
// The latency model is a real predictor trained on synthetic measurements (not this machine's),
// so predicted and measured latencies are not compared here: scripts/bench/search-torch.ts does
// that with this machine's own predictor.

const dir = mkdtempSync(join(tmpdir(), 'hwlat-torch-search-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const EXAMPLE = 'python/examples/proxyless_search.py';
/** The reduced budget must finish within this (the "under two minutes in CI"). */
const LIMIT_MS = 120_000;

interface Run { arch: string; choices: string[]; expected_ms: number; predicted_ms: number; ref_ms: number; accuracy: number; measured_ms: number; trace: Array<{ expected_ms: number }> }

test('the PyTorch search example: the latency term lowers E[latency], the found architectures are predicted as hwlat does and measured by hwlat profile', async (t) => {
  if (!torchReady(t)) return;
  await initTf();
  const predictor = withResidual(await syntheticPredictor('fbnet', { epochs: 10, networks: 40 }), 'example');
  const model = LatencyModel.fromPredictor(predictor, { kind: 'composite' });
  const path = join(dir, 'fbnet_latency.json');
  writeFileSync(path, JSON.stringify(latencyJson(model.params)));
  model.dispose();

  const r = await python([
    EXAMPLE, '--latency-json', path, '--json', '--warmup', '5', '--steps', '20', '--train-steps', '10', '--train-images', '500', '--test-images', '200',
    '--lambda', '2', '--profile-repeats', '3', '--profile-min-time', '30',
  ], { timeoutMs: LIMIT_MS });
  assert.equal(r.code, 0, `exit ${r.code} after ${(r.ms / 1000).toFixed(0)} s (killed at ${LIMIT_MS / 1000} s?)\n${r.stderr}`);
  process.stderr.write(`# example (reduced budget) ran in ${(r.ms / 1000).toFixed(1)} s\n`);
  const out = JSON.parse(r.stdout) as { runs: { latency: Run; baseline: Run }; comparison: { predicted_reduction: number; measured_reduction: number }; measurement: { calibration_ms: number } };
  const { latency, baseline } = out.runs;
  for (const [name, run] of Object.entries(out.runs)) {
    // a valid architecture of the space, predicted by the torch module as the TypeScript predictor does
    assert.equal(predictor.space.format(predictor.space.parse(run.arch)), run.arch, name);
    const ts = predictor.predict(run.arch, { kind: 'composite' }).ms;
    assert.ok(Math.abs(run.predicted_ms - ts) <= 1e-4 * Math.max(1, ts), `${name}: example predicts ${run.predicted_ms} ms, hwlat ${ts} ms`);
    // measured through hwlat profile: a real median of the full-width network
    assert.ok(run.measured_ms > 0.05 && run.measured_ms < 1000, `${name}: measured ${run.measured_ms} ms`);
    assert.ok(run.accuracy >= 0 && run.accuracy <= 1);
  }
  assert.ok(out.measurement.calibration_ms > 0);
  // the latency term pulls E[latency] down from the uniform reference; without it α follows accuracy alone
  assert.ok(latency.expected_ms < 0.97 * latency.ref_ms, `E[lat] ${latency.expected_ms} vs uniform ${latency.ref_ms}`);
  assert.ok(latency.expected_ms < baseline.expected_ms, `with the latency term ${latency.expected_ms} ms, without ${baseline.expected_ms} ms`);
  const first = latency.trace[0]?.expected_ms as number;
  const last = latency.trace.at(-1)?.expected_ms as number;
  assert.ok(last < first, `E[lat] along the search: ${latency.trace.map((s) => s.expected_ms).join(' → ')}`);
});

test('the example refuses a latency model of another space, naming both', async (t) => {
  if (!torchReady(t)) return;
  await initTf();
  const other = await syntheticPredictor('proxyless-mobile', { epochs: 2, networks: 20, encoding: false });
  const path = join(dir, 'proxyless.json');
  writeFileSync(path, JSON.stringify(latencyJson(LatencyModel.fromPredictor(other, { kind: 'lut-sum' }).params)));
  const r = await python([EXAMPLE, '--latency-json', path, '--no-measure'], { timeoutMs: 60_000 });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /^error: the latency export is of space 'proxyless-mobile', not 'fbnet'/m);
  assert.doesNotMatch(r.stderr, /Traceback/);
});
