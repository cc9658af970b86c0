import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  FBNET_LUT_FORMAT, LUT_FORMATS, LutEntryError, LutFileError, LutParseError, MissingLutKeysError, UnsupportedSpaceError,
  getLutFormat, listLutFormats, readLutFile, writeLutFile, type Lut, type LutEntry, type LutFormatName,
} from '../../lut/index.ts';
import { FBNET_CANDIDATES, UnknownKeyError, getSpace, spaceUnits, specKey } from '../../ops-library/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'hwlat-lut-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const DEV = 'dev-0123456789ab';

/** A LUT over keys with deterministic, distinct figures (median/p10/p90 differ from the mean). */
function synthetic(keys: Iterable<string>, space: string | null = null): Lut {
  const entries = new Map<string, LutEntry>();
  let i = 0;
  for (const key of keys) {
    const mean = 0.05 + 0.013 * i + 0.0007 * i * i;
    entries.set(key, { key, count: 10 + i, mean, var: (0.01 * mean) ** 2, median: mean * 0.98, p10: mean * 0.9, p90: mean * 1.15 });
    i++;
  }
  return { deviceId: DEV, space, calibrationMs: 1.25, entries };
}

// Real-looking ProxylessNAS mobile LUT entries, in both yaml styles the published files use.
const PROXYLESS_YAML = `# ProxylessNAS mobile lookup table (ms)
Conv-input:224x224x3-output:112x112x32: {count: 50, mean: 4.37, var: 0.04}
expanded_conv-input:112x112x32-output:112x112x16-expand:1-kernel:3-stride:1-idskip:0:
  count: 50
  mean: 3.0218
  var: 0.0213
expanded_conv-input:112x112x16-output:56x56x24-expand:3-kernel:3-stride:2-idskip:0:
  count: 50
  mean: 6.1473
  var: 0.12
expanded_conv-input:56x56x24-output:56x56x24-expand:6-kernel:5-stride:1-idskip:1: {count: 50, mean: 5.2, var: 3.0e-08}
Conv_1-input:7x7x320-output:7x7x1280: {count: 50, mean: 1.6, var: 0.002}
Logits-input:7x7x1280-output:1000: {count: 50, mean: 0.21, var: 0.0001}
`;

test('a hand-written ProxylessNAS yaml parses with the keys ops-library produces, and formats back', () => {
  const entries = LUT_FORMATS.proxyless.parse(PROXYLESS_YAML);
  assert.equal(entries.size, 6);
  const units = spaceUnits(getSpace('proxyless-mobile'));
  for (const key of entries.keys()) assert.ok(units.has(key), `${key} is a proxyless-mobile unit`);
  assert.deepEqual(entries.get('Conv-input:224x224x3-output:112x112x32'), {
    key: 'Conv-input:224x224x3-output:112x112x32', count: 50, mean: 4.37, var: 0.04, median: 4.37, p10: 4.37, p90: 4.37,
  });
  assert.equal(entries.get('expanded_conv-input:56x56x24-output:56x56x24-expand:6-kernel:5-stride:1-idskip:1')?.var, 3e-8);

  const text = LUT_FORMATS.proxyless.format({ deviceId: DEV, calibrationMs: null, entries });
  // the published block layout; median/p10/p90 equal the mean, so only count, mean, var are written
  assert.match(text, /^Conv-input:224x224x3-output:112x112x32:\n {2}count: 50\n {2}mean: 4.37\n {2}var: 0.04\n/);
  assert.doesNotMatch(text, /median|p10|p90/);
  // PyYAML reads `1e-5` as a string: floats keep a dot before the exponent
  assert.match(text, / {2}var: 3\.0e-8\n/);
  assert.deepEqual(LUT_FORMATS.proxyless.parse(text), entries);
});

test('proxyless and csv round-trip every figure exactly, keys with commas and quotes included', () => {
  const keys = [...spaceUnits(getSpace('nasbench201')).keys(), 'odd,key "quoted"', ' padded key ', 'true', '123'];
  const lut = synthetic(keys);
  for (const name of ['proxyless', 'csv'] as const) {
    const fmt = LUT_FORMATS[name];
    const text = fmt.format(lut);
    const back = fmt.parse(text);
    assert.deepEqual([...back.keys()], keys, `${name} keeps the order`);
    assert.deepEqual(back, lut.entries, name);
    // and formatting what was read gives the same text
    assert.equal(fmt.format({ ...lut, entries: back }), text, name);
  }
  const csv = LUT_FORMATS.csv.format(lut);
  assert.match(csv, /^key,count,mean,var,median,p10,p90\n/);
  assert.match(csv, /\n"odd,key ""quoted""",/);
  // CRLF line ends and columns in another order read the same
  const crlf = 'mean,key\r\n1.5,"a,b"\r\n2,c\r\n';
  assert.deepEqual([...LUT_FORMATS.csv.parse(crlf).values()].map((e) => [e.key, e.mean, e.count, e.var, e.median]), [['a,b', 1.5, 1, 0, 1.5], ['c', 2, 1, 0, 2]]);
});

test("fbnet json for the 'fbnet' space round-trips a LUT built over all its units", () => {
  const space = getSpace('fbnet');
  const lut = synthetic(spaceUnits(space).keys(), 'fbnet');
  const text = LUT_FORMATS.fbnet.format(lut, { space });
  const doc = JSON.parse(text);
  assert.equal(doc.format, FBNET_LUT_FORMAT);
  assert.equal(doc.space, 'fbnet');
  assert.equal(doc.deviceId, DEV);
  assert.equal(doc.unit, 'ms');
  assert.deepEqual(doc.candidates, [...FBNET_CANDIDATES]);
  assert.equal(doc.layers.length, 22);
  for (const row of doc.layers) assert.equal(row.length, 9);
  // a cell is the LUT mean of its candidate's unit; layer 0's skip is an identity (16→16, stride 1): 0
  const l1 = space.positions[1]!;
  for (const [c, name] of FBNET_CANDIDATES.entries()) {
    const unit = l1.choices.find((ch) => ch.name === name)!.units[0]!;
    assert.equal(doc.layers[1][c], lut.entries.get(specKey(unit))!.mean, `layer 1 ${name}`);
  }
  assert.equal(doc.layers[0][8], 0);
  assert.deepEqual(Object.keys(doc.fixed), space.fixedUnits.map(specKey));

  const back = LUT_FORMATS.fbnet.parse(text);
  assert.deepEqual(new Set(back.keys()), new Set(lut.entries.keys()));
  for (const [key, e] of back) {
    const orig = lut.entries.get(key)!;
    // the format carries means only: those come back exactly
    assert.equal(e.mean, orig.mean, key);
    assert.equal(e.median, e.mean);
  }
  // keys shared by several layers count every cell that carried them; they agree, so var is 0
  const shared = specKey(space.positions[2]!.choices[0]!.units[0]!);
  assert.equal(specKey(space.positions[3]!.choices[0]!.units[0]!), shared);
  assert.ok(back.get(shared)!.count >= 2);
  assert.equal(back.get(shared)!.var, 0);
  // and the parsed LUT formats to the same file
  assert.equal(LUT_FORMATS.fbnet.format({ ...lut, entries: back }, { space: 'fbnet' }), text);
  assert.deepEqual(LUT_FORMATS.fbnet.meta?.(text), { deviceId: DEV, space: 'fbnet' });
});

test('fbnet json works for proxyless-mobile, whose positions differ in candidates (zero only with an identity skip)', () => {
  const space = getSpace('proxyless-mobile');
  const lut = synthetic(spaceUnits(space).keys());
  const text = LUT_FORMATS.fbnet.format(lut, { space: 'proxyless-mobile' });
  const doc = JSON.parse(text);
  assert.equal(doc.candidates.at(-1), 'zero');
  assert.equal(doc.layers[0].at(-1), null, 'the first layer of a stage has no zero candidate');
  assert.equal(doc.layers[1].at(-1), 0);
  const back = LUT_FORMATS.fbnet.parse(text);
  for (const [key, e] of back) assert.equal(e.mean, lut.entries.get(key)!.mean, key);
  assert.equal(back.size, lut.entries.size);
});

test('fbnet: missing keys are listed by name; nasbench201 cannot be expressed; bad documents say where', () => {
  const space = getSpace('fbnet');
  const all = [...spaceUnits(space).keys()];
  const gone = [all[5]!, all[40]!];
  const lut = synthetic(all.filter((k) => !gone.includes(k)));
  assert.throws(
    () => LUT_FORMATS.fbnet.format(lut, { space }),
    (e: Error) => e instanceof MissingLutKeysError && e.keys.length === 2 && gone.every((k) => e.message.includes(k)) && /lacks 2 keys that space 'fbnet' needs/.test(e.message),
  );
  assert.throws(() => LUT_FORMATS.fbnet.format(lut), (e: Error) => e instanceof TypeError && /needs a search space/.test(e.message));

  const nb = getSpace('nasbench201');
  const nbLut = synthetic(spaceUnits(nb).keys(), 'nasbench201');
  const cannot = (e: Error) => e instanceof UnsupportedSpaceError && /cannot express space 'nasbench201'.*adds 15 LUT units/.test(e.message);
  assert.throws(() => LUT_FORMATS.fbnet.format(nbLut), cannot);
  const nbDoc = JSON.stringify({ format: FBNET_LUT_FORMAT, space: 'nasbench201', deviceId: DEV, unit: 'ms', candidates: ['none'], layers: [], fixed: {} });
  assert.throws(() => LUT_FORMATS.fbnet.parse(nbDoc), cannot);

  const good = JSON.parse(LUT_FORMATS.fbnet.format(synthetic(all), { space }));
  const bad = (patch: (d: any) => void, pattern: RegExp) => {
    const d = structuredClone(good);
    patch(d);
    assert.throws(() => LUT_FORMATS.fbnet.parse(JSON.stringify(d)), (e: Error) => e instanceof LutParseError && pattern.test(e.message), String(pattern));
  };
  bad((d) => (d.format = 'fbnet/0'), /fbnet LUT: format: expected 'hwlat-fbnet-lut\/1', got "fbnet\/0"/);
  bad((d) => d.layers.pop(), /space 'fbnet' has 22 searchable positions, the file has 21 rows/);
  bad((d) => (d.layers[4][2] = -1), /layers\[4\]\[2\]: expected a latency >= 0/);
  bad((d) => (d.layers[0][8] = 0.5), /layers\[0\]\[8\]: 'skip' adds no LUT unit at position 'layer0'; expected 0, got 0.5/);
  bad((d) => (d.candidates[0] = 'k9_e9'), /layers\[0\]\[0\]: 'k9_e9' is not a candidate of position 'layer0'/);
  bad((d) => (d.fixed.x = 'fast'), /fixed\['x'\]: expected a latency >= 0 in ms, got "fast"/);
  bad((d) => (d.space = 'proxyless-mobile'), /space 'proxyless-mobile' has 21 searchable positions, the file has 22 rows/);
  assert.throws(() => LUT_FORMATS.fbnet.parse('{"format":'), (e: Error) => e instanceof SyntaxError && /fbnet LUT: document: not valid JSON/.test(e.message));
  assert.throws(() => LUT_FORMATS.fbnet.parse(JSON.stringify(good), { space: 'proxyless-mobile' }), /the file is for space 'fbnet', not 'proxyless-mobile'/);
});

test('proxyless: malformed yaml and bad entries are SyntaxError/TypeError naming the line, key and field', () => {
  const parse = (text: string) => () => LUT_FORMATS.proxyless.parse(text);
  assert.throws(parse('Conv-input:224x224x3-output:112x112x32: {count: 50, mean: 4.37\nLogits: [\n'), (e: Error) => e instanceof SyntaxError && e instanceof LutParseError && /proxyless LUT: line \d+: malformed yaml/.test(e.message));
  assert.throws(parse('a: {count: 1, mean: 1}\na: {count: 1, mean: 2}\n'), /line 2: malformed yaml: Map keys must be unique/);
  assert.throws(
    parse('Conv-input:224x224x3-output:112x112x32: {count: 50, var: 0.04}\n'),
    (e: Error) => e instanceof TypeError && e instanceof LutEntryError && e.message === "proxyless LUT: entry 'Conv-input:224x224x3-output:112x112x32': field 'mean' is missing",
  );
  assert.throws(parse('k: {count: 50, mean: fast, var: 0.04}\n'), /entry 'k': field 'mean' must be a finite number >= 0, got 'fast'/);
  assert.throws(parse('k: {count: 2.5, mean: 1, var: 0}\n'), /entry 'k': field 'count' must be an integer >= 0, got 2.5/);
  assert.throws(parse('k: 4.2\n'), /entry 'k': expected a mapping \{count, mean, var\}, got 4.2/);
  assert.throws(parse('- a\n- b\n'), /document: expected a mapping of key → \{count, mean, var\}, got a list/);
  assert.equal(LUT_FORMATS.proxyless.parse('').size, 0);
});

test('csv: errors name the line (and the key and field for a bad value)', () => {
  const parse = (text: string) => () => LUT_FORMATS.csv.parse(text);
  const H = 'key,count,mean,var,median,p10,p90\n';
  assert.throws(parse(`${H}a,1,2,0,2,2,2\nb,1,2,0\n`), (e: Error) => e instanceof SyntaxError && e.message === 'csv LUT: line 3: expected 7 fields, got 4');
  assert.throws(parse(`${H}a,1,fast,0,2,2,2\n`), (e: Error) => e instanceof TypeError && e.message === "csv LUT: entry 'a': field 'mean' must be a number, got 'fast' (line 2)");
  assert.throws(parse(`${H}a,1,-2,0,2,2,2\n`), /entry 'a': field 'mean' must be a finite number >= 0, got -2 \(line 2\)/);
  assert.throws(parse(`${H}a,1,,0,2,2,2\n`), /entry 'a': field 'mean' is missing \(line 2\)/);
  assert.throws(parse(`${H}"a,1,2,0,2,2,2\n`), /line 2: a quoted field is never closed/);
  assert.throws(parse(`${H}"a"x,1,2,0,2,2,2\n`), /line 2: unexpected 'x' after a closing quote/);
  assert.throws(parse(`${H}a,1,2,0,2,2,2\n\na,1,3,0,3,3,3\n`), /line 4: key 'a' appears twice/);
  assert.throws(parse('key,mean,speed\n'), /line 1: unknown column 'speed'; known: key, count, mean, var, median, p10, p90/);
  assert.throws(parse('key,count\n'), /line 1: the header lacks the 'mean' column/);
  assert.throws(parse(''), /line 1: missing the header line/);
  // a quoted key may span lines; the next record's line number still counts them
  assert.throws(parse(`${H}"multi\nline",1,2,0,2,2,2\nb,1\n`), /line 4: expected 7 fields, got 2/);
});

test('the format registry is frozen and an unknown name lists the known ones', () => {
  assert.ok(Object.isFrozen(LUT_FORMATS));
  assert.deepEqual(listLutFormats(), ['proxyless', 'fbnet', 'csv']);
  for (const name of listLutFormats()) assert.equal(getLutFormat(name).name, name);
  assert.throws(() => getLutFormat('onnx'), (e: Error) => e instanceof UnknownKeyError && e.message === "unknown LUT format 'onnx'; known: proxyless, fbnet, csv");
});

test('readLutFile / writeLutFile: real files, clear errors, nothing written on failure', () => {
  const space = getSpace('fbnet');
  const lut = synthetic(spaceUnits(space).keys(), 'fbnet');
  const files: Record<LutFormatName, string> = { proxyless: join(dir, 'l.yaml'), fbnet: join(dir, 'l.json'), csv: join(dir, 'l.csv') };
  for (const [name, path] of Object.entries(files) as Array<[LutFormatName, string]>) {
    writeLutFile(path, lut, name, { space });
    const back = readLutFile(path, name, name === 'fbnet' ? {} : { deviceId: DEV, space: 'fbnet' });
    assert.equal(back.deviceId, DEV, name);
    assert.equal(back.space, 'fbnet', name);
    assert.equal(back.calibrationMs, null);
    assert.equal(back.entries.size, lut.entries.size, name);
    if (name !== 'fbnet') assert.deepEqual(back.entries, lut.entries, name);
  }
  assert.equal(readLutFile(files.csv, 'csv').deviceId, 'unknown');

  const missing = join(dir, 'nope.yaml');
  assert.throws(() => readLutFile(missing, 'proxyless'), (e: Error) => e instanceof LutFileError && e.message === `cannot read LUT file '${missing}': ENOENT: no such file or directory`);
  assert.throws(() => readLutFile(dir, 'csv'), /cannot read LUT file .*: EISDIR/);
  assert.throws(() => readLutFile(files.csv, 'xml'), UnknownKeyError);
  const noDir = join(dir, 'no-such-dir', 'l.csv');
  assert.throws(() => writeLutFile(noDir, lut, 'csv'), (e: Error) => e instanceof LutFileError && e.message.startsWith(`cannot write LUT file '${noDir}': ENOENT`));
  // a LUT the format cannot hold writes nothing, not even a temporary file
  const partial = join(dir, 'partial.json');
  const short = synthetic([...lut.entries.keys()].slice(1), 'fbnet');
  assert.throws(() => writeLutFile(partial, short, 'fbnet'), MissingLutKeysError);
  assert.equal(existsSync(partial), false);
  // a failed write leaves an existing file as it was
  writeFileSync(partial, 'keep');
  assert.throws(() => writeLutFile(partial, short, 'fbnet'), MissingLutKeysError);
  assert.equal(readFileSync(partial, 'utf8'), 'keep');
});
