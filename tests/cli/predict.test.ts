import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { openStore, startCollector } from '../../collector/index.ts';
import { getSpace, sampleArchs, spaceUnits, specKey } from '../../ops-library/index.ts';
import { loadPredictor } from '../../predictor/index.ts';
import { hwlat, type CliResult } from '../helpers/cli.ts';

// one real profile → train → predict / eval chain; every step is a separate `hwlat` process
const dir = mkdtempSync(join(tmpdir(), 'hwlat-cli-predict-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const nb201 = getSpace('nasbench201');
const db = join(dir, 'lat.sqlite');
const model = join(dir, 'model');
const QUICK = ['--repeats', '3', '--min-time', '0', '--warmup', '1'];
const ARCHS = sampleArchs(nb201, { count: 20, seed: 99 });
let deviceId = '';
let droppedOps = 0;

function ok(res: CliResult, what: string): any {
  assert.equal(res.code, 0, `${what} failed:\n${res.stderr}`);
  return JSON.parse(res.stdout);
}

before(async () => {
  const profiled = ok(await hwlat(['profile', '--space', 'nasbench201', '--ops', '--networks', '30', '--db', db, '--json', ...QUICK]), 'profile');
  assert.equal(profiled.networks, 30);
  assert.equal(profiled.ops, spaceUnits(nb201).size);
  deviceId = profiled.device.id;
});

test('hwlat train writes a predictor directory and reports its validation', async () => {
  const out = ok(await hwlat(['train', '--db', db, '--device', deviceId, '--space', 'nasbench201', '--out', model, '--epochs', '100', '--json']), 'train');
  assert.equal(out.out, model);
  assert.equal(out.device, deviceId);
  assert.equal(out.space, 'nasbench201');
  assert.ok(['lut-sum', 'composite', 'encoding-mlp'].includes(out.chosen));
  // a busy test machine may have measured some of them disturbed: those are left out, and said so
  droppedOps = out.quality.dropped.ops;
  assert.equal(out.training.networks + out.training.validation + out.quality.dropped.networks, 30);
  assert.equal(out.training.lutEntries + droppedOps, spaceUnits(nb201).size);
  assert.equal(out.training.regressorUnits, 0);
  for (const kind of ['lut-sum', 'composite', 'encoding-mlp']) {
    assert.ok(out.metrics[kind] && Number.isFinite(out.metrics[kind].mape), `metrics of ${kind}`);
  }
  for (const f of ['predictor.json', 'encoding.json', 'encoding.weights.bin']) assert.ok(existsSync(join(model, f)), f);
});

test('hwlat predict: one architecture (latency, band, breakdown) and a CSV batch', async () => {
  const arch = ARCHS[0] as string;
  const p = ok(await hwlat(['predict', '--model', model, '--space', 'nasbench201', '--arch', arch, '--json']), 'predict --arch');
  assert.equal(p.arch, arch);
  assert.equal(p.space, 'nasbench201');
  assert.equal(p.device, deviceId);
  // the fields POST /api/predict answers with (collector/server/prediction-json.ts), none of the old camelCase ones
  for (const f of ['latency_ms', 'low_ms', 'high_ms', 'kind', 'lut_sum_ms', 'calibration_ms', 'predictor', 'breakdown']) assert.ok(f in p, f);
  for (const f of ['ms', 'low', 'high', 'lutSumMs', 'calibrationMs']) assert.ok(!(f in p), f);
  assert.equal(p.predictor.dir, model);
  assert.ok(Number.isFinite(p.latency_ms) && p.latency_ms > 0, `latency_ms ${p.latency_ms}`);
  assert.ok(p.low_ms <= p.latency_ms && p.latency_ms <= p.high_ms, `band ${p.low_ms}..${p.high_ms} around ${p.latency_ms}`);
  assert.ok(p.lut_sum_ms > 0);
  const units = nb201.units(arch).map(specKey).sort();
  assert.deepEqual(p.breakdown.map((b: { key: string }) => b.key).sort(), units);
  for (const b of p.breakdown) {
    // from the LUT, or, for an op measured disturbed and left out, from the regressor
    assert.ok(b.source === 'lut' || (droppedOps > 0 && b.source === 'regressor'), `${b.key}: ${b.source}`);
    assert.ok(b.ms > 0, b.key);
  }

  // the lut-sum kind at twice the reference calibration is twice the LUT sum
  const ref = JSON.parse(readFileSync(join(model, 'predictor.json'), 'utf8')).calibrationMs as number;
  assert.ok(ref > 0);
  const slow = ok(await hwlat(['predict', '--model', model, '--arch', arch, '--kind', 'lut-sum', '--calibration', String(2 * ref), '--json']), 'predict --calibration');
  assert.equal(slow.kind, 'lut-sum');
  assert.ok(Math.abs(slow.latency_ms / (2 * p.lut_sum_ms) - 1) < 1e-9, `${slow.latency_ms} vs 2 × ${p.lut_sum_ms}`);
  assert.equal(slow.calibration_ms, 2 * ref);

  const csvIn = join(dir, 'in.csv');
  const csvOut = join(dir, 'out.csv');
  writeFileSync(csvIn, `arch_id,arch\n${ARCHS.map((a, i) => `net-${i},${a}`).join('\n')}\n`);
  const batch = ok(await hwlat(['predict', '--model', model, '--space', 'nasbench201', '--archs', csvIn, '--out', csvOut, '--json']), 'predict --archs');
  assert.deepEqual(batch, { predicted: ARCHS.length, out: csvOut });
  const lines = readFileSync(csvOut, 'utf8').trim().split('\n');
  assert.equal(lines[0], 'arch_id,latency_ms');
  const rows = lines.slice(1).map((l) => l.split(','));
  assert.equal(rows.length, ARCHS.length);
  rows.forEach(([id, ms], i) => {
    assert.equal(id, `net-${i}`);
    assert.ok(Number(ms) > 0 && Number.isFinite(Number(ms)), `row ${i}: ${ms}`);
  });
  // the batch path and the single path agree
  assert.equal(Number(rows[0]?.[1]), Number(p.latency_ms.toFixed(5)));

  // one naming: the API serving the same predictor answers with the same fields and values
  const store = openStore({ path: db });
  const collector = await startCollector({ store, token: 'predict-names-token-0123', port: 0, host: '127.0.0.1', predictors: [await loadPredictor(model)] });
  try {
    const res = await fetch(`${collector.url}/api/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ device: deviceId, space: 'nasbench201', arch }) });
    assert.equal(res.status, 200);
    const api = (await res.json()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(p).filter((k) => k !== 'predictor'), Object.keys(api).filter((k) => k !== 'predictor'));
    const { predictor: _cp, ...cliFields } = p;
    const { predictor: _ap, ...apiFields } = api;
    assert.deepEqual(cliFields, apiFields);
  } finally {
    await collector.close();
    await store.close();
  }
});

test('hwlat eval writes an HTML report with plots and held-out metrics', async () => {
  const report = join(dir, 'r.html');
  const out = ok(await hwlat(['eval', '--db', db, '--device', deviceId, '--space', 'nasbench201', '--report', report, '--json', '--epochs', '100']), 'eval');
  assert.equal(out.device, deviceId);
  assert.ok(out.calibration_ms > 0);
  assert.equal(out.space, 'nasbench201');
  assert.equal(out.report, report);
  // hwlat profile measured every network beside NAS-Bench-201's anchor network
  assert.equal(out.normalisation, 'anchor');
  assert.ok(out.calibrationElasticity >= 0 && out.calibrationElasticity <= 2);
  assert.ok(out.splits.length >= 1);
  const split = out.splits[0];
  assert.equal(split.split, 'same-pass', 'one pass: the held-out architectures of that pass');
  assert.ok(split.testNetworks >= 2 && split.trainNetworks + split.testNetworks <= 30);
  for (const kind of ['lut-sum', 'composite']) {
    const m = split.metrics[kind];
    assert.ok(m, `metrics of ${kind}`);
    assert.equal(m.n, split.testNetworks);
    for (const f of ['within10', 'mape', 'rmse', 'kendall']) assert.ok(Number.isFinite(m[f]), `${kind}.${f}`);
  }
  const html = readFileSync(report, 'utf8');
  assert.match(html, /<svg/);
  assert.match(html, /nasbench201/);
});

test('bad input: a clear error naming the problem, exit 1, nothing written', async () => {
  const csvOut = join(dir, 'never.csv');
  const badHeader = join(dir, 'bad-header.csv');
  writeFileSync(badHeader, `id,architecture\nx,${ARCHS[0]}\n`);
  const badRow = join(dir, 'bad-row.csv');
  const fbnetArch = sampleArchs(getSpace('fbnet'), { count: 1 })[0] as string;
  writeFileSync(badRow, `arch_id,arch\nok,${ARCHS[0]}\nwrong,${fbnetArch}\n`);
  const cases: Array<[string[], RegExp]> = [
    [['train', '--db', db, '--device', 'dev-000000000000', '--space', 'nasbench201', '--out', join(dir, 'never-model')], /unknown device 'dev-000000000000'/],
    [['predict', '--model', model, '--space', 'fbnet', '--arch', fbnetArch], /'--space fbnet' does not match the predictor's space 'nasbench201'/],
    [['predict', '--model', model, '--archs', badHeader, '--out', csvOut], /must start with the header 'arch_id,arch', got 'id,architecture'/],
    [['predict', '--model', model, '--arch', fbnetArch], /invalid nasbench201 architecture/],
    [['predict', '--model', model, '--archs', badRow, '--out', csvOut], /invalid nasbench201 architecture/],
    [['predict', '--model', join(dir, 'no-model'), '--arch', ARCHS[0] as string], /predictor\.json is missing/],
  ];
  for (const [args, pattern] of cases) {
    const res = await hwlat(args);
    assert.equal(res.code, 1, `${args.join(' ')} should exit 1:\n${res.stderr}`);
    assert.match(res.stderr, pattern, args.join(' '));
  }
  assert.equal(existsSync(csvOut), false, 'a failed batch writes no output file');
  assert.equal(existsSync(join(dir, 'never-model')), false, 'a failed train writes no model');
});
