import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { openStore } from '../../collector/index.ts';
import { LUT_FORMATS, buildLut } from '../../lut/index.ts';
import { getSpace, spaceUnits } from '../../ops-library/index.ts';
import { MeasurementSchema } from '../../protocol/index.ts';
import { hwlat } from '../helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'hwlat-cli-lut-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const QUICK = ['--repeats', '3', '--min-time', '0', '--warmup', '1'];
const db = join(dir, 'lat.sqlite');
let deviceId = '';

before(async () => {
  const res = await hwlat(['profile', '--space', 'nasbench201', '--ops', '--networks', '0', '--db', db, '--json', ...QUICK]);
  assert.equal(res.code, 0, res.stderr);
  deviceId = JSON.parse(res.stdout).device.id;
});

test('lut build writes the profiled device LUT in proxyless and csv; fbnet refuses nasbench201', async () => {
  const units = [...spaceUnits(getSpace('nasbench201')).keys()];
  const store = openStore({ path: db });
  const expected = buildLut((await store.listMeasurements({ deviceId, level: 'op' })));
  await store.close();

  for (const format of ['proxyless', 'csv'] as const) {
    const out = join(dir, `nb201.${format}`);
    const res = await hwlat(['lut', 'build', '--db', db, '--device', deviceId, '--space', 'nasbench201', '--format', format, '--out', out, '--json']);
    assert.equal(res.code, 0, res.stderr);
    const summary = JSON.parse(res.stdout);
    assert.deepEqual(
      { device: summary.device.id, space: summary.space, format: summary.format, out: summary.out, entries: summary.entries, measurements: summary.measurements },
      { device: deviceId, space: 'nasbench201', format, out, entries: units.length, measurements: units.length },
    );
    assert.ok(summary.calibrationMs > 0);
    const entries = LUT_FORMATS[format].parse(readFileSync(out, 'utf8'));
    assert.deepEqual(new Set(entries.keys()), new Set(units), format);
    // the file holds exactly what buildLut makes of the stored measurements
    assert.deepEqual(entries, expected.entries, format);
    for (const e of entries.values()) assert.ok(e.mean > 0 && e.p10 <= e.median && e.median <= e.p90, e.key);
  }
  // without --space the text output says what it wrote
  const plain = await hwlat(['lut', 'build', '--db', db, '--device', deviceId, '--format', 'csv', '--out', join(dir, 'all.csv')]);
  assert.equal(plain.code, 0, plain.stderr);
  assert.match(plain.stdout, new RegExp(`wrote ${units.length} entries \\(csv\\) to .*all\\.csv\\ndevice ${deviceId} .*expressed at calibration`));

  const fb = await hwlat(['lut', 'build', '--db', db, '--device', deviceId, '--space', 'nasbench201', '--format', 'fbnet', '--out', join(dir, 'nb201.json')]);
  assert.equal(fb.code, 1);
  assert.match(fb.stderr, /the fbnet LUT format cannot express space 'nasbench201'/);
  assert.equal(existsSync(join(dir, 'nb201.json')), false);
});

test('lut import stores a ProxylessNAS yaml as a device whose measurements are listed; re-import is idempotent', async () => {
  const file = join(dir, 'mobile.yaml');
  writeFileSync(
    file,
    `Conv-input:224x224x3-output:112x112x32: {count: 50, mean: 4.37, var: 0.04}
expanded_conv-input:112x112x16-output:56x56x24-expand:3-kernel:3-stride:2-idskip:0: {count: 50, mean: 6.1473, var: 0.0144}
Logits-input:7x7x1280-output:1000: {count: 50, mean: 0.21, var: 0.0001}
`,
  );
  const args = ['lut', 'import', '--db', db, '--device', 'pixel4-cpu', '--format', 'proxyless', '--file', file, '--space', 'proxyless-mobile'];
  const res = await hwlat(args);
  assert.equal(res.code, 0, res.stderr);
  const id = /as device (dev-[0-9a-f]{12}) \(pixel4-cpu\)$/m.exec(res.stdout)?.[1] as string;
  assert.match(res.stdout, /^imported 3 entries \(proxyless, .*mobile\.yaml\) as device dev-[0-9a-f]{12} \(pixel4-cpu\)\n$/);

  const list = await hwlat(['measurements', '--db', db, '--device', id, '--json']);
  assert.equal(list.code, 0, list.stderr);
  const out = JSON.parse(list.stdout);
  assert.equal(out.total, 3);
  const dev = out.devices.find((d: { id: string }) => d.id === id);
  assert.deepEqual({ name: dev.name, runtime: dev.runtime, cpu: dev.hardware.cpu }, { name: 'pixel4-cpu', runtime: { backend: 'imported', provider: 'proxyless', version: 'lut', threads: 0 }, cpu: 'imported' });
  for (const m of out.measurements) {
    MeasurementSchema.parse(m);
    assert.equal(m.level, 'op');
    assert.equal(m.space, 'proxyless-mobile');
    assert.ok(m.spec, 'the op spec of a proxyless-mobile key is stored');
  }
  const conv = out.measurements.find((m: { key: string }) => m.key === 'Conv-input:224x224x3-output:112x112x32');
  assert.equal(conv.stats.mean, 4.37);
  assert.equal(conv.stats.repeats, 50);

  // the same file again: same device, nothing new
  const again = await hwlat([...args, '--json']);
  assert.equal(again.code, 0, again.stderr);
  const summary = JSON.parse(again.stdout);
  assert.deepEqual([summary.device.id, summary.inserted, summary.duplicates], [id, 0, 3]);

  // and the imported device's LUT can be built like a profiled one
  const back = join(dir, 'back.yaml');
  const built = await hwlat(['lut', 'build', '--db', db, '--device', id, '--format', 'proxyless', '--out', back, '--json']);
  assert.equal(built.code, 0, built.stderr);
  assert.equal(JSON.parse(built.stdout).calibrationMs, null);
  const original = LUT_FORMATS.proxyless.parse(readFileSync(file, 'utf8'));
  const rebuilt = LUT_FORMATS.proxyless.parse(readFileSync(back, 'utf8'));
  assert.deepEqual([...rebuilt.keys()].sort(), [...original.keys()].sort());
  for (const [key, e] of original) {
    const r = rebuilt.get(key)!;
    assert.deepEqual([r.count, r.mean, r.median, r.p10, r.p90], [e.count, e.mean, e.median, e.p10, e.p90], key);
    // var is stored as a stddev, so it comes back as √var² (to the last bit or so)
    assert.ok(Math.abs(r.var - e.var) < 1e-15, `${key} var`);
  }
});

test('an fbnet table goes in as csv and out as fbnet json; a partial one lists the missing keys', async () => {
  const space = getSpace('fbnet');
  const keys = [...spaceUnits(space).keys()];
  const csv = join(dir, 'fbnet.csv');
  writeFileSync(csv, ['key,count,mean,var', ...keys.map((k, i) => `${k},20,${(0.02 + i * 0.001).toFixed(3)},0.0001`)].join('\n'));
  const imp = await hwlat(['lut', 'import', '--db', db, '--device', 'fbnet-table', '--format', 'csv', '--file', csv, '--space', 'fbnet', '--json']);
  assert.equal(imp.code, 0, imp.stderr);
  const id = JSON.parse(imp.stdout).device.id;
  const json = join(dir, 'fbnet.json');
  const res = await hwlat(['lut', 'build', '--db', db, '--device', id, '--space', 'fbnet', '--format', 'fbnet', '--out', json]);
  assert.equal(res.code, 0, res.stderr);
  const doc = JSON.parse(readFileSync(json, 'utf8'));
  assert.equal(doc.layers.length, 22);
  const parsed = LUT_FORMATS.fbnet.parse(readFileSync(json, 'utf8'));
  assert.deepEqual(new Set(parsed.keys()), new Set(keys));
  // the fbnet json imports too: its space comes from the file
  const imp2 = await hwlat(['lut', 'import', '--db', db, '--device', 'fbnet-json', '--format', 'fbnet', '--file', json, '--json']);
  assert.equal(imp2.code, 0, imp2.stderr);
  assert.deepEqual([JSON.parse(imp2.stdout).space, JSON.parse(imp2.stdout).inserted], ['fbnet', keys.length]);

  const partial = join(dir, 'partial.csv');
  writeFileSync(partial, ['key,mean', ...keys.slice(2).map((k) => `${k},0.5`)].join('\n'));
  const pid = JSON.parse((await hwlat(['lut', 'import', '--db', db, '--device', 'partial', '--format', 'csv', '--file', partial, '--space', 'fbnet', '--json'])).stdout).device.id;
  const miss = await hwlat(['lut', 'build', '--db', db, '--device', pid, '--space', 'fbnet', '--format', 'fbnet', '--out', join(dir, 'partial.json')]);
  assert.equal(miss.code, 1);
  assert.match(miss.stderr, new RegExp(`lacks 2 keys that space 'fbnet' needs .*: ${keys[0]}, ${keys[1]}`));
  assert.equal(existsSync(join(dir, 'partial.json')), false);
});

test('bad input: a clear error, exit 1, nothing stored', async () => {
  const store = openStore({ path: db });
  const before = (await store.countMeasurements());
  const devices = (await store.listDevices()).length;
  await store.close();
  const yaml = join(dir, 'bad.yaml');
  writeFileSync(yaml, 'Conv-input:224x224x3-output:112x112x32: {count: 50, var: 0.04}\n');
  const cases: Array<[string[], RegExp]> = [
    [['lut', 'build', '--db', db, '--device', deviceId, '--format', 'onnx', '--out', join(dir, 'x')], /unknown LUT format 'onnx'; known: proxyless, fbnet, csv/],
    [['lut', 'import', '--db', db, '--device', 'x', '--format', 'tflite', '--file', yaml], /unknown LUT format 'tflite'; known: proxyless, fbnet, csv/],
    [['lut', 'build', '--db', db, '--device', 'dev-000000000000', '--format', 'csv', '--out', join(dir, 'x')], new RegExp(`unknown device 'dev-000000000000'; known: .*${deviceId}`)],
    [['lut', 'build', '--db', join(dir, 'none.sqlite'), '--device', deviceId, '--format', 'csv', '--out', join(dir, 'x')], /database '.*none\.sqlite' does not exist/],
    [['lut', 'build', '--db', db, '--device', deviceId, '--format', 'fbnet', '--out', join(dir, 'x')], /'--space' is required by '--format fbnet'/],
    [['lut', 'build', '--db', db, '--device', deviceId, '--space', 'darts', '--format', 'csv', '--out', join(dir, 'x')], /unknown space 'darts'/],
    [['lut', 'build', '--db', db, '--device', deviceId, '--space', 'fbnet', '--format', 'csv', '--out', join(dir, 'x')], /has no op-level measurements in space 'fbnet'/],
    [['lut', 'build', '--db', db, '--device', deviceId, '--format', 'csv', '--out', join(dir, 'no-dir', 'x.csv')], /cannot write LUT file '.*no-dir\/x\.csv': ENOENT/],
    [['lut', 'import', '--db', db, '--device', 'x', '--format', 'proxyless', '--file', join(dir, 'missing.yaml')], /cannot read LUT file '.*missing\.yaml': ENOENT: no such file or directory/],
    [['lut', 'import', '--db', db, '--device', 'x', '--format', 'proxyless', '--file', yaml], /proxyless LUT: entry 'Conv-input:224x224x3-output:112x112x32': field 'mean' is missing/],
  ];
  // independent failures: run them side by side (each spawn pays ~2 s of tsx start-up)
  const results = await Promise.all(cases.map(([args]) => hwlat(args)));
  cases.forEach(([args, pattern], i) => {
    const res = results[i]!;
    assert.equal(res.code, 1, `${args.join(' ')} should fail with 1: ${res.stderr}`);
    assert.match(res.stderr, pattern, args.join(' '));
  });
  const after = openStore({ path: db });
  assert.equal((await after.countMeasurements()), before);
  assert.equal((await after.listDevices()).length, devices);
  await after.close();
  assert.equal(existsSync(join(dir, 'none.sqlite')), false, 'a failed build creates no database');

  const helps = [['lut'], ['lut', 'build'], ['lut', 'import']];
  const helped = await Promise.all(helps.map((args) => hwlat([...args, '--help'])));
  helped.forEach((res, i) => {
    assert.equal(res.code, 0, helps[i]!.join(' '));
    assert.match(res.stdout, /Usage: hwlat lut/);
  });
});
