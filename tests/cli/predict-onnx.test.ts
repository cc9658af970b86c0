import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { openStore, startCollector } from '../../collector/index.ts';
import { MAX_ONNX_BYTES } from '../../collector/server/onnx-routes.ts';
import { buildOnnx, getSpace, lowerNetwork, sampleArchs } from '../../ops-library/index.ts';
import { hwlat } from '../helpers/cli.ts';
import { attr, floatTensor, tinyModel } from '../ops-library/onnx-test-models.ts';

// a real device: FBNet networks measured and profiled in context by `hwlat profile --kernels`
const dir = mkdtempSync(join(tmpdir(), 'hwlat-predict-onnx-'));
const db = join(dir, 'lat.sqlite');
let device = '';
before(async () => {
  const r = await hwlat(['profile', '--space', 'fbnet', '--networks', '4', '--seed', '5', '--kernels', '--min-time', '20', '--db', db, '--json'], { timeoutMs: 240_000 });
  assert.equal(r.code, 0, r.stderr);
  device = JSON.parse(r.stdout).device.id;
});
after(() => rmSync(dir, { recursive: true, force: true }));

const write = (name: string, bytes: Uint8Array) => {
  const f = join(dir, name);
  writeFileSync(f, bytes);
  return f;
};

test('hwlat predict --onnx: an unseen network predicted kernel by kernel from the device\'s kernels timed in context', async () => {
  const space = getSpace('fbnet');
  const arch = sampleArchs(space, { count: 1, seed: 77 })[0]!;
  const file = write('net.onnx', buildOnnx(lowerNetwork(space.expand(arch))));
  const r = await hwlat(['predict', '--onnx', file, '--device', device, '--db', db, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const p = JSON.parse(r.stdout);
  assert.equal(p.device, device);
  assert.equal(p.runtime, 'ort-cpu');
  assert.ok(p.kernels.length > 10);
  assert.ok(Math.abs(p.latency_ms - (p.kernel_sum_ms + p.overhead_ms)) < 1e-9);
  assert.ok(Math.abs(p.kernel_sum_ms - p.kernels.reduce((a: number, k: { ms: number }) => a + k.ms, 0)) < 1e-9);
  assert.ok(p.kernels.every((k: { ms: number; source: string }) => k.ms > 0 && ['measured', 'regressor', 'fallback'].includes(k.source)));
  assert.ok(p.kernels.some((k: { source: string }) => k.source === 'measured'), 'FBNet networks share kernels: some were timed exactly so');
  assert.ok(['none', 'any'].includes(p.samples_in_context.mode) && typeof p.samples_in_context.factors === 'object', JSON.stringify(p.samples_in_context));
  const text = await hwlat(['predict', '--onnx', file, '--device', device, '--db', db]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, new RegExp(`^\\d+\\.\\d{3} ms on ${device} \\(ort-cpu\\): ${p.kernels.length} kernels`));
});

test('hwlat predict --onnx: a kernel type the device never ran is listed with its share of MACs, and --strict refuses it', async () => {
  // an LRN after a conv: no FBNet network has one
  const file = write('lrn.onnx', tinyModel({
    inputs: [['x', [1, 3, 32, 32]]],
    outputs: ['y'],
    initializers: [floatTensor('w', [8, 3, 3, 3])],
    nodes: [['Conv', ['x', 'w'], ['c'], [attr.ints('pads', [1, 1, 1, 1])]], ['LRN', ['c'], ['y'], [attr.int('size', 3)]]],
  }));
  const r = await hwlat(['predict', '--onnx', file, '--device', device, '--db', db, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const p = JSON.parse(r.stdout);
  assert.deepEqual(p.unmapped.map((u: { op: string }) => u.op), ['LRN']);
  assert.ok(p.unmapped[0].macs_share > 0 && p.unmapped[0].macs_share < 1);
  const strict = await hwlat(['predict', '--onnx', file, '--device', device, '--db', db, '--strict']);
  assert.notEqual(strict.code, 0);
  assert.match(strict.stderr, /1 kernel of types the device never timed .*LRN/);
});

test('hwlat predict --onnx: bad input is a clear error and a non-zero exit', async () => {
  const notOnnx = write('not.onnx', new TextEncoder().encode('this is not a model'));
  const cases: Array<[string[], RegExp]> = [
    [['--onnx', notOnnx, '--device', device, '--db', db], /not an ONNX model|ONNX/i],
    [['--onnx', join(dir, 'missing.onnx'), '--device', device, '--db', db], /cannot read '.*missing\.onnx': ENOENT/],
    [['--onnx', notOnnx, '--device', 'dev-000000000000', '--db', db], /unknown device 'dev-000000000000'; known: /],
    [['--onnx', notOnnx, '--device', device, '--db', db, '--input-shape', '1xax3'], /'--input-shape' must look like 1x3x224x224/],
  ];
  const symbolic = write('symbolic.onnx', tinyModel({ inputs: [['x', ['batch', 3, 8, 8]]], outputs: ['y'], nodes: [['Relu', ['x'], ['y']]] }));
  const whole = buildOnnx(lowerNetwork(getSpace('fbnet').expand(sampleArchs(getSpace('fbnet'), { count: 1, seed: 78 })[0]!)));
  cases.push([['--onnx', write('truncated.onnx', whole.subarray(0, Math.floor(whole.byteLength / 2))), '--device', device, '--db', db], /ONNX/]);
  const custom = tinyModel({ inputs: [['x', [1, 4]]], outputs: ['y'], nodes: [{ opType: 'Frobnicate', domain: 'com.example', input: ['x'], output: ['y'], name: 'mystery' }] });
  cases.push([['--onnx', write('custom.onnx', custom), '--device', device, '--db', db], /com\.example:Frobnicate \(node 'mystery'\)/]);
  cases.push([['--onnx', symbolic, '--device', device, '--db', db], /symbolic dimensions \[batch, 3, 8, 8\]; pass its concrete shape with --input-shape/]);
  for (const [args, message] of cases) {
    const r = await hwlat(['predict', ...args]);
    assert.notEqual(r.code, 0, args.join(' '));
    assert.match(r.stderr, message, args.join(' '));
  }
  const ok = await hwlat(['predict', '--onnx', symbolic, '--device', device, '--db', db, '--input-shape', '1x3x8x8', '--json']);
  assert.equal(ok.code, 0, ok.stderr);
});

test('POST /api/predict/onnx: the same prediction over HTTP; strict, symbolic shapes and bad bodies are 4xx naming the problem', async () => {
  const store = openStore({ path: db });
  const collector = await startCollector({ store, token: 'onnx-route-token-0123456789', port: 0, host: '127.0.0.1' });
  try {
    const space = getSpace('fbnet');
    const bytes = buildOnnx(lowerNetwork(space.expand(sampleArchs(space, { count: 1, seed: 77 })[0]!)));
    const post = async (query: string, body: Uint8Array | string) => {
      const res = await fetch(`${collector.url}/api/predict/onnx?${query}`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: body as RequestInit['body'] });
      return { status: res.status, body: (await res.json()) as any };
    };
    const r = await post(`device=${device}`, bytes);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.kind, 'kernel-model');
    const cli = JSON.parse((await hwlat(['predict', '--onnx', write('same.onnx', bytes), '--device', device, '--db', db, '--json'])).stdout);
    assert.ok(Math.abs(r.body.latency_ms - cli.latency_ms) < 1e-9, `${r.body.latency_ms} over HTTP vs ${cli.latency_ms} from the CLI`);
    assert.equal(r.body.kernels.length, cli.kernels.length);
    const lrn = tinyModel({
      inputs: [['x', [1, 3, 32, 32]]], outputs: ['y'], initializers: [floatTensor('w', [8, 3, 3, 3])],
      nodes: [['Conv', ['x', 'w'], ['c'], [attr.ints('pads', [1, 1, 1, 1])]], ['LRN', ['c'], ['y'], [attr.int('size', 3)]]],
    });
    const strict = await post(`device=${device}&strict=true`, lrn);
    assert.equal(strict.status, 422);
    assert.match(strict.body.error, /LRN/);
    const symbolic = tinyModel({ inputs: [['x', ['batch', 3, 8, 8]]], outputs: ['y'], nodes: [['Relu', ['x'], ['y']]] });
    const sym = await post(`device=${device}`, symbolic);
    assert.equal(sym.status, 400);
    assert.match(sym.body.error, /symbolic dimensions/);
    assert.equal((await post(`device=${device}&input_shape=1x3x8x8`, symbolic)).status, 200);
    assert.equal((await post(`device=${device}&input_shape=1xq`, symbolic)).status, 400);
    const junk = await post(`device=${device}`, 'not a model');
    assert.equal(junk.status, 400, JSON.stringify(junk.body));
    assert.equal((await post('device=dev-000000000000', bytes)).status, 404);
    // a truncated file, an operator the importer does not know, a body over the limit
    const truncated = await post(`device=${device}`, bytes.subarray(0, Math.floor(bytes.byteLength / 2)));
    assert.equal(truncated.status, 400, JSON.stringify(truncated.body));
    const custom = tinyModel({ inputs: [['x', [1, 4]]], outputs: ['y'], nodes: [{ opType: 'Frobnicate', domain: 'com.example', input: ['x'], output: ['y'], name: 'mystery' }] });
    const unknownOp = await post(`device=${device}`, custom);
    assert.ok(unknownOp.status >= 400 && unknownOp.status < 500, JSON.stringify(unknownOp));
    assert.match(unknownOp.body.error, /com\.example:Frobnicate \(node 'mystery'\)/);
    const big = await post(`device=${device}`, new Uint8Array(MAX_ONNX_BYTES + 1));
    assert.equal(big.status, 413);
    assert.match(big.body.error, /exceeds 67108864 bytes; strip the weights first \('hwlat onnx strip/);
  } finally {
    await collector.close();
    store.close();
  }
});
