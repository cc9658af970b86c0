import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { getSpace } from '../../ops-library/index.ts';
import { loadLatencyModel } from '../../predictor/index.ts';
import { tf } from '../../predictor/tf.ts';
import { hwlat, type CliResult } from '../helpers/cli.ts';
import { syntheticPredictorDir } from '../helpers/latency-model.ts';

// `hwlat export` and `hwlat search` as separate processes on a predictor directory trained here
// (trainPredictor on synthetic measurements of FBNet).
const dir = mkdtempSync(join(tmpdir(), 'hwlat-cli-latency-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const model = join(dir, 'model');
const fbnet = getSpace('fbnet');

function ok(res: CliResult, what: string): any {
  assert.equal(res.code, 0, `${what} failed:\n${res.stderr}`);
  return JSON.parse(res.stdout);
}

before(async () => {
  await syntheticPredictorDir('fbnet', model, { epochs: 20 });
});

test('hwlat export --format onnx: probs [22, 9] → latency_ms, equal to the tfjs model in onnxruntime', async () => {
  const out = join(dir, 'fbnet.onnx');
  const r = ok(await hwlat(['export', '--model', model, '--space', 'fbnet', '--format', 'onnx', '--out', out, '--json']), 'export onnx');
  assert.equal(r.format, 'onnx');
  assert.equal(r.layers, 22);
  assert.equal(r.candidates, 9);
  assert.ok(existsSync(out));
  const m = await loadLatencyModel(model);
  const probs = Array.from({ length: 22 }, (_, l) => Array.from({ length: 9 }, (_, i) => (i === l % 9 ? 0.6 : 0.05)));
  const session = await ort.InferenceSession.create(readFileSync(out), { intraOpNumThreads: 1 });
  try {
    const res = await session.run({ probs: new ort.Tensor('float32', Float32Array.from(probs.flat()), [22, 9]) });
    const onnxMs = (res.latency_ms as ort.Tensor).data[0] as number;
    const tfMs = tf.tidy(() => m.expected(probs).dataSync()[0] as number);
    assert.ok(Math.abs(onnxMs / tfMs - 1) < 1e-4, `onnx ${onnxMs} vs tfjs ${tfMs}`);
  } finally {
    await session.release();
    m.dispose();
  }
});

test('hwlat export --format json: the LUT matrix, the correction and the formula', async () => {
  const out = join(dir, 'fbnet.json');
  ok(await hwlat(['export', '--model', model, '--space', 'fbnet', '--format', 'json', '--out', out, '--json']), 'export json');
  const j = JSON.parse(readFileSync(out, 'utf8'));
  assert.equal(j.format, 'hwlat-latency-model/1');
  assert.equal(j.space, 'fbnet');
  assert.equal(j.lut_ms.length, 22);
  assert.ok(j.lut_ms.every((row: number[]) => row.length === 9 && row.every((v) => v >= 0)));
  assert.deepEqual(j.candidate_names[0], fbnet.positions[0]?.choices.map((c) => c.name));
  assert.ok(j.formula.some((line: string) => line.includes('lin = base')));
});

test('hwlat search: a tiny real search prints an fbnet architecture, its accuracy and its measured latency', async () => {
  const r = ok(await hwlat([
    'search', '--model', model, '--space', 'fbnet', '--warmup-steps', '2', '--steps', '3', '--finetune-steps', '2',
    '--train-images', '100', '--test-images', '20', '--batch', '8', '--loss', 'proxyless-add-linear', '--json',
  ], { timeoutMs: 240_000 }), 'search');
  assert.equal(fbnet.format(fbnet.parse(r.arch)), r.arch);
  assert.equal(r.choices.length, 22);
  assert.equal(r.loss, 'proxyless-add-linear');
  assert.ok(r.accuracy >= 0 && r.accuracy <= 1 && r.testImages === 20);
  assert.ok(r.expectedMs > 0 && r.predictedMs > 0, `E ${r.expectedMs}, predicted ${r.predictedMs}`);
  assert.ok(r.measured.ms > 0 && r.measured.calibrationMs > 0, JSON.stringify(r.measured));
  assert.ok(r.probs.every((row: number[]) => Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-4));
});

test('bad input: clear errors naming the problem, exit 1', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['export', '--model', model, '--space', 'nope', '--format', 'onnx', '--out', join(dir, 'x.onnx')], /unknown space 'nope'/],
    [['export', '--model', model, '--space', 'nasbench201', '--format', 'onnx', '--out', join(dir, 'x.onnx')], /'--space nasbench201' does not match the predictor's space 'fbnet'/],
    [['export', '--model', model, '--space', 'fbnet', '--format', 'xml', '--out', join(dir, 'x.xml')], /'--format' must be one of onnx, json, got 'xml'/],
    [['export', '--model', join(dir, 'none'), '--space', 'fbnet', '--format', 'json', '--out', join(dir, 'x.json')], /predictor\.json is missing/],
    [['search', '--model', model, '--space', 'fbnet', '--loss', 'l2'], /'--loss' must be one of proxyless-mul-log, proxyless-add-linear, fbnet, got 'l2'/],
    [['search', '--model', model, '--space', 'fbnet', '--target-ms', '-3'], /'--target-ms' must be a number >= 0, got '-3'/],
  ];
  for (const [args, re] of cases) {
    const res = await hwlat(args);
    assert.notEqual(res.code, 0, `${args.join(' ')} should fail`);
    assert.match(res.stderr, re, args.join(' '));
  }
  assert.ok(!existsSync(join(dir, 'x.onnx')) && !existsSync(join(dir, 'x.json')));
});
