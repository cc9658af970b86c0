import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  LUT_FORMATS, LutEntryError, buildLut, lutToMeasurements, readLutFile, sameLutEntry, storedFigures, unstoredEntries, writeLutFile,
  type Lut, type LutEntry,
} from '../../lut/index.ts';
import { getSpace, spaceUnits } from '../../ops-library/index.ts';

// issue 18 #8: OFA's `std`, re-import by value (not by the last bit), and counts of what a file holds.
const dir = mkdtempSync(join(tmpdir(), 'hwlat-lut-spread-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const DEV = 'dev-0123456789ab';

// the OFA layout (once-for-all's latency tables): count, mean and std, no var
const OFA_YAML = `Conv-input:224x224x3-output:112x112x32:
  count: 2000
  mean: 4.37
  std: 0.2
expanded_conv-input:112x112x16-output:56x56x24-expand:3-kernel:3-stride:2-idskip:0: {count: 2000, mean: 6.1473, std: 0.12}
Logits-input:7x7x1280-output:1000: {count: 2000, mean: 0.21, std: 0}
`;

test("OFA's std becomes var = std² (yaml and csv), and the spread reaches the stored measurement", () => {
  const entries = LUT_FORMATS.proxyless.parse(OFA_YAML);
  const conv = entries.get('Conv-input:224x224x3-output:112x112x32');
  assert.equal(conv?.var, 0.2 * 0.2, 'var = std², not 0');
  assert.equal(entries.get('expanded_conv-input:112x112x16-output:56x56x24-expand:3-kernel:3-stride:2-idskip:0')?.var, 0.12 * 0.12);
  assert.equal(entries.get('Logits-input:7x7x1280-output:1000')?.var, 0);
  const [m] = lutToMeasurements(entries, { deviceId: DEV, passId: 'pass-imported-ofa', space: 'proxyless-mobile' });
  assert.ok(Math.abs((m?.stats.stddev as number) - 0.2) < 1e-15, `stored stddev ${m?.stats.stddev}`);

  const csv = LUT_FORMATS.csv.parse('key,count,mean,std\na,10,2,0.5\n');
  assert.equal(csv.get('a')?.var, 0.25);

  // both given: they must agree (to rounding), else the error names the field
  assert.equal(LUT_FORMATS.proxyless.parse('k: {mean: 1, var: 0.04, std: 0.2}\n').get('k')?.var, 0.04);
  assert.throws(
    () => LUT_FORMATS.proxyless.parse('k: {mean: 1, var: 0.5, std: 0.2}\n'),
    (e: Error) => e instanceof LutEntryError && e.field === 'std' && /entry 'k': field 'std' is 0.2, so the variance is 0.04.*but 'var' is 0.5/.test(e.message),
  );
  assert.throws(() => LUT_FORMATS.proxyless.parse('k: {mean: 1, std: -0.1}\n'), /entry 'k': field 'std' must be a finite number >= 0, got -0.1/);
  assert.throws(() => LUT_FORMATS.csv.parse('key,mean,std\nk,1,wide\n'), /entry 'k': field 'std' must be a number, got 'wide' \(line 2\)/);
});

test('sameLutEntry / unstoredEntries: an entry the LUT already holds (to the last bits) is not new; a changed figure is', () => {
  const stored: LutEntry = { key: 'k', count: 50, mean: 4.37, var: 0.04000000000000001, median: 4.37, p10: 4.37, p90: 4.37 };
  assert.equal(sameLutEntry({ key: 'k', count: 50, mean: 4.37, var: 0.04 }, stored), true);
  assert.equal(sameLutEntry({ key: 'k', count: 50, mean: 4.37 * (1 + 1e-6), var: 0.04 }, stored), false);
  assert.equal(sameLutEntry({ key: 'k', count: 51, mean: 4.37, var: 0.04 }, stored), false);
  assert.equal(sameLutEntry({ key: 'k', count: 50, mean: 4.37, var: 0.04, median: 4.3 }, stored), false);
  // compared as stored: count 0 is stored as one run
  assert.equal(sameLutEntry({ key: 'k', count: 0, mean: 1, var: 0 }, { key: 'k', count: 1, mean: 1, var: 0, median: 1, p10: 1, p90: 1 }), true);
  assert.deepEqual(storedFigures('k', { key: 'k', count: 0, mean: 2, var: 0.01, median: 1.9 }), { key: 'k', count: 1, mean: 2, var: 0.01, median: 1.9, p10: 1.9, p90: 2 });

  // the round trip that used to double every count: entries → measurements → LUT → entries again
  const entries = LUT_FORMATS.proxyless.parse(`Conv-input:224x224x3-output:112x112x32: {count: 50, mean: 4.37, var: 0.04}
expanded_conv-input:112x112x16-output:56x56x24-expand:3-kernel:3-stride:2-idskip:0: {count: 50, mean: 6.1473, var: 0.0144}
Logits-input:7x7x1280-output:1000: {count: 0, mean: 0.21, var: 0.0001}
`);
  const lut = buildLut(lutToMeasurements(entries, { deviceId: DEV, passId: 'pass-imported-x', space: null }));
  const exported = LUT_FORMATS.proxyless.parse(LUT_FORMATS.proxyless.format(lut));
  assert.ok([...exported.values()].some((e) => e.var !== entries.get(e.key)?.var), 'the export differs from the file in the last bits (why ids alone cannot tell)');
  assert.equal(unstoredEntries(exported, lut).size, 0, 'the export is already stored');
  assert.equal(unstoredEntries(entries, lut).size, 0, 'the original is already stored');
  const changed = new Map(entries);
  changed.set('Logits-input:7x7x1280-output:1000', { ...entries.get('Logits-input:7x7x1280-output:1000')!, mean: 0.22 });
  changed.set('new-key', { key: 'new-key', count: 1, mean: 1, var: 0, median: 1, p10: 1, p90: 1 });
  assert.deepEqual([...unstoredEntries(changed, lut).keys()], ['Logits-input:7x7x1280-output:1000', 'new-key']);
});

test('writeLutFile returns the entries the file holds: an fbnet table of a space holds its layers, not the LUT\'s other keys', () => {
  const space = getSpace('proxyless-mobile');
  const keys = [...spaceUnits(space).keys()];
  const entries = new Map<string, LutEntry>();
  keys.forEach((key, i) => entries.set(key, { key, count: 5, mean: 0.1 + i / 100, var: 0, median: 0.1 + i / 100, p10: 0.1 + i / 100, p90: 0.1 + i / 100 }));
  // a published table may carry keys the space never uses (72 entries for 70 layers)
  for (const key of ['Conv-input:224x224x3-output:112x112x8', 'Logits-input:7x7x1024-output:1000']) entries.set(key, { key, count: 5, mean: 1, var: 0, median: 1, p10: 1, p90: 1 });
  const lut: Lut = { deviceId: DEV, space: space.name, calibrationMs: null, entries };
  assert.equal(lut.entries.size, keys.length + 2);

  const json = join(dir, 'mobile.json');
  const written = writeLutFile(json, lut, 'fbnet', { space });
  const held = LUT_FORMATS.fbnet.parse(readFileSync(json, 'utf8'));
  assert.equal(held.size, keys.length);
  assert.deepEqual(written, { entries: held.size });
  // the other formats hold every entry
  for (const [format, ext] of [['proxyless', 'yaml'], ['csv', 'csv']] as const) {
    const path = join(dir, `mobile.${ext}`);
    assert.deepEqual(writeLutFile(path, lut, format), { entries: lut.entries.size }, format);
    assert.equal(readLutFile(path, format).entries.size, lut.entries.size, format);
  }
});
