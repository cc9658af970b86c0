import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openStore } from '../../collector/index.ts';
import { getSpace } from '../../ops-library/index.ts';
import { MeasurementSchema } from '../../protocol/index.ts';
import { hwlat } from '../helpers/cli.ts';
import { runOnnx } from '../helpers/ort.ts';

const dir = mkdtempSync(join(tmpdir(), 'hwlat-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const QUICK = ['--repeats', '3', '--min-time', '0', '--warmup', '1'];

test('profile writes op and network measurements to a real SQLite file and reads them back', async () => {
  const db = join(dir, 'lat.sqlite');
  const res = await hwlat(['profile', '--space', 'nasbench201', '--ops', '--max-ops', '3', '--networks', '2', '--db', db, '--seed', '5', '--json', ...QUICK]);
  assert.equal(res.code, 0, res.stderr);
  const summary = JSON.parse(res.stdout);
  assert.equal(summary.ops, 3);
  assert.equal(summary.networks, 2);
  assert.equal(summary.stored, 5);
  assert.match(summary.device.id, /^dev-[0-9a-f]{12}$/);
  assert.ok(summary.calibrationMs > 0);

  const list = await hwlat(['measurements', '--db', db, '--json']);
  assert.equal(list.code, 0, list.stderr);
  const out = JSON.parse(list.stdout);
  assert.equal(out.total, 5);
  assert.equal(out.devices[0].id, summary.device.id);
  for (const m of out.measurements) {
    MeasurementSchema.parse(m);
    assert.ok(m.stats.median > 0 && m.stats.p10 <= m.stats.median && m.stats.median <= m.stats.p90);
    assert.ok(m.calibrationMs > 0);
    assert.equal(m.passId, summary.passId);
  }
  const nets = out.measurements.filter((m: { level: string }) => m.level === 'network');
  for (const n of nets) getSpace('nasbench201').parse(n.key);

  // the same file read directly through the store
  const store = openStore({ path: db });
  try {
    assert.equal((await store.countMeasurements({ level: 'op' })), 3);
    const pass = (await store.getPass(summary.passId));
    assert.ok(pass?.finishedAt);
    assert.ok((pass?.calibrationTrace.length ?? 0) >= 3);
  } finally {
    await store.close();
  }

  // a second profile run (threads 2) is another device in the same file; nothing is lost
  const again = await hwlat(['profile', '--space', 'nasbench201', '--networks', '1', '--threads', '2', '--db', db, '--json', ...QUICK]);
  assert.equal(again.code, 0, again.stderr);
  assert.notEqual(JSON.parse(again.stdout).device.id, summary.device.id);
  const all = JSON.parse((await hwlat(['measurements', '--db', db, '--json'])).stdout);
  assert.equal(all.total, 6);
  assert.equal(all.devices.length, 2);
});

test('ops build writes an ONNX model that onnxruntime runs', async () => {
  const out = join(dir, 'fb.onnx');
  const arch = Array(22).fill('k3_e3').join('-');
  const res = await hwlat(['ops', 'build', '--space', 'fbnet', '--arch', arch, '--out', out, '--batch', '2', '--json']);
  assert.equal(res.code, 0, res.stderr);
  assert.equal(JSON.parse(res.stdout).out, out);
  const run = await runOnnx(new Uint8Array(readFileSync(out)), [[2, 3, 32, 32]]);
  assert.deepEqual([...run.dims], [2, 100]);

  const spec = join(dir, 'conv.onnx');
  const r2 = await hwlat(['ops', 'build', '--spec', '{"op":"dwconv","input":[8,9,9],"kernel":3,"stride":2}', '--out', spec]);
  assert.equal(r2.code, 0, r2.stderr);
  const run2 = await runOnnx(new Uint8Array(readFileSync(spec)), [[1, 8, 9, 9]]);
  assert.deepEqual([...run2.dims], [1, 8, 5, 5]);
});

test('bad input: a clear error naming the problem and a non-zero exit', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['profile', '--space', 'darts', '--ops', '--db', join(dir, 'x.sqlite')], /unknown space 'darts'; known: proxyless-mobile/],
    [['profile', '--space', 'fbnet', '--db', join(dir, 'x.sqlite')], /nothing to profile/],
    [['profile', '--space', 'fbnet', '--ops', '--db', '/nonexistent-dir/sub/lat.sqlite'], /cannot open database '\/nonexistent-dir\/sub\/lat.sqlite'/],
    [['profile', '--space', 'fbnet', '--ops', '--threads', '-1', '--db', join(dir, 'x.sqlite')], /'--threads' must be an integer >= 0, got '-1'/],
    [['profile', '--space', 'fbnet', '--ops', '--backend', 'tvm:cpu', '--db', join(dir, 'x.sqlite')], /unknown backend 'tvm'/],
    [['ops', 'build', '--space', 'fbnet', '--arch', 'k3_e1-k9_e9', '--out', join(dir, 'y.onnx')], /invalid fbnet architecture 'k3_e1-k9_e9': expected 22 choices, got 2/],
    [['ops', 'build', '--space', 'nasbench201', '--arch', '|nor_conv_3x3~0|', '--out', join(dir, 'y.onnx')], /invalid nasbench201 architecture/],
    [['ops', 'build', '--spec', '{"op":"conv5d","input":[1,2,2]}', '--out', join(dir, 'y.onnx')], /unknown op 'conv5d'; known: conv2d/],
    [['ops', 'build', '--spec', '{"op":"conv2d"', '--out', join(dir, 'y.onnx')], /'--spec' is not valid JSON/],
    [['ops', 'build', '--spec', '{"op":"conv2d","input":[3,8,8],"out":4,"kernel":3}', '--out', '/nonexistent-dir/y.onnx'], /cannot write '\/nonexistent-dir\/y.onnx': ENOENT/],
    [['measurements', '--db', join(dir, 'x.sqlite'), '--level', 'kernel'], /'--level' must be 'op' or 'network'/],
  ];
  for (const [args, pattern] of cases) {
    const res = await hwlat(args);
    assert.notEqual(res.code, 0, `${args.join(' ')} should fail`);
    assert.match(res.stderr, pattern, args.join(' '));
  }
  // a failed command wrote nothing into an existing database
  const db = join(dir, 'lat.sqlite');
  const before = JSON.parse((await hwlat(['measurements', '--db', db, '--json'])).stdout).total;
  await hwlat(['profile', '--space', 'nope', '--ops', '--db', db]);
  assert.equal(JSON.parse((await hwlat(['measurements', '--db', db, '--json'])).stdout).total, before);
});

test('--help works on every command', async () => {
  for (const args of [[], ['profile'], ['ops'], ['ops', 'build'], ['ops', 'list'], ['ops', 'keys'], ['measurements'], ['agent'], ['setup'], ['serve'], ['campaign'], ['campaign', 'create'], ['campaign', 'status']]) {
    const res = await hwlat([...args, '--help']);
    assert.equal(res.code, 0, args.join(' '));
    assert.match(res.stdout, /Usage: hwlat/);
  }
});

test('agent lists the execution providers that load here (cpu does)', async () => {
  const res = await hwlat(['agent', '--json']);
  assert.equal(res.code, 0, res.stderr);
  const out = JSON.parse(res.stdout);
  const cpu = out.providers.find((p: { name: string }) => p.name === 'cpu');
  assert.equal(cpu.loads, true);
  assert.match(out.device.id, /^dev-[0-9a-f]{12}$/);
});
