import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { deviceLut, openStore } from '../../collector/index.ts';
import { LUT_FORMATS } from '../../lut/index.ts';
import { hwlat } from '../helpers/cli.ts';

// issue 18 #8 through the real `hwlat` on a real SQLite file: re-importing stores nothing new (the
// README's promise), OFA's std is kept, and the device is named one way.
const dir = mkdtempSync(join(tmpdir(), 'hwlat-lut-reimport-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const db = join(dir, 'lat.sqlite');

async function lutOf(deviceId: string) {
  const store = openStore({ path: db });
  try {
    return { lut: (await deviceLut(store, deviceId)), measurements: (await store.countMeasurements({ deviceId })) };
  } finally {
    await store.close();
  }
}

test('lut import: the device\'s own yaml and csv exports, and the file again, store nothing new; the device is named one way', async () => {
  const file = join(dir, 'ofa.yaml');
  // OFA's layout (std, not var), an entry with count 0, one with its own median and quantiles
  writeFileSync(
    file,
    `Conv-input:224x224x3-output:112x112x32: {count: 50, mean: 4.37, var: 0.04}
expanded_conv-input:112x112x16-output:56x56x24-expand:3-kernel:3-stride:2-idskip:0: {count: 2000, mean: 6.1473, std: 0.1}
Conv_1-input:7x7x320-output:7x7x1280: {count: 0, mean: 1.6, var: 0.0144}
Logits-input:7x7x1280-output:1000: {count: 50, mean: 0.21, var: 0.0001, median: 0.2, p10: 0.19, p90: 0.25}
`,
  );
  const args = ['lut', 'import', '--db', db, '--device', 'note10-ofa', '--format', 'proxyless', '--file', file, '--space', 'proxyless-mobile'];
  const first = await hwlat(args);
  assert.equal(first.code, 0, first.stderr);
  const id = /device (dev-[0-9a-f]{12}) \(note10-ofa\)/.exec(first.stdout)?.[1] as string;
  // one line, the device as `lut build` names it: id (name)
  assert.equal(first.stdout, `imported 4 entries (proxyless, ${file}) as device ${id} (note10-ofa)\n`);
  const { lut, measurements } = await lutOf(id);
  assert.equal(measurements, 4);
  const spread = lut.entries.get('expanded_conv-input:112x112x16-output:56x56x24-expand:3-kernel:3-stride:2-idskip:0');
  assert.ok(spread && Math.abs(spread.var - 0.01) < 1e-15, `std 0.1 is stored as var 0.01, got ${spread?.var}`);

  // the device's exports, built like any device's
  const yaml = join(dir, 'export.yaml');
  const csv = join(dir, 'export.csv');
  const builds = await Promise.all([
    hwlat(['lut', 'build', '--db', db, '--device', id, '--format', 'proxyless', '--out', yaml]),
    hwlat(['lut', 'build', '--db', db, '--device', id, '--format', 'csv', '--out', csv]),
  ]);
  for (const b of builds) assert.equal(b.code, 0, b.stderr);
  assert.match(builds[0]!.stdout, new RegExp(`^wrote 4 entries \\(proxyless\\) to .*export\\.yaml\\ndevice ${id} \\(note10-ofa\\),`));
  const exported = LUT_FORMATS.proxyless.parse(readFileSync(yaml, 'utf8'));
  assert.ok([...exported.values()].some((e) => e.var !== lut.entries.get(e.key)?.var || e.count !== LUT_FORMATS.proxyless.parse(readFileSync(file, 'utf8')).get(e.key)?.count),
    'the export is not the file byte for byte (var through a stddev, count 0 stored as 1)');

  // each again, one after the other (one writer): nothing new, the LUT as it was
  for (const [path, format] of [[yaml, 'proxyless'], [csv, 'csv']] as const) {
    const again = await hwlat(['lut', 'import', '--db', db, '--device', 'note10-ofa', '--format', format, '--file', path, '--space', 'proxyless-mobile', '--json']);
    assert.equal(again.code, 0, again.stderr);
    const s = JSON.parse(again.stdout);
    assert.deepEqual([s.device, s.entries, s.inserted, s.duplicates, s.passId], [{ id, name: 'note10-ofa' }, 4, 0, 4, null], path);
  }
  const plain = await hwlat(args);
  assert.equal(plain.stdout, `nothing new: the 4 entries of ${file} (proxyless) are already stored for device ${id} (note10-ofa)\n`);
  const now = await lutOf(id);
  assert.equal(now.measurements, 4, 'no measurement added');
  assert.deepEqual(now.lut.entries, lut.entries, 'counts not doubled, figures unchanged');

  // a table that changes one entry and adds one stores those two only
  const grown = join(dir, 'grown.yaml');
  writeFileSync(grown, `${readFileSync(yaml, 'utf8').replace('mean: 4.37', 'mean: 4.5')}Conv-input:224x224x3-output:112x112x24: {count: 10, mean: 3.9, var: 0.01}\n`);
  const more = await hwlat(['lut', 'import', '--db', db, '--device', 'note10-ofa', '--format', 'proxyless', '--file', grown, '--json']);
  assert.equal(more.code, 0, more.stderr);
  assert.deepEqual([JSON.parse(more.stdout).inserted, JSON.parse(more.stdout).duplicates], [2, 3]);
  assert.equal((await lutOf(id)).measurements, 6);
});
