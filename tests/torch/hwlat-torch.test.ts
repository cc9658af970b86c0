import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import seedrandom from 'seedrandom';
import { openStore, startCollector, type Collector, type SqliteStore } from '../../collector/index.ts';
import {
  fbnetLoss, initTf, LatencyModel, LatencyPredictor, latencyJson, proxylessAddLinear, proxylessMulLog, savePredictor,
  type LatencyLossOptions, type PredictorKind,
} from '../../predictor/index.ts';
import { tf } from '../../predictor/tf.ts';
import { hwlat } from '../helpers/cli.ts';
import { syntheticPredictor } from '../helpers/latency-model.ts';
import { withoutResidual, withResidual } from './predictors.ts';
import { python, ROOT, torchProbe, torchReady } from './torch-python.ts';

// python/hwlat_torch.py against the TypeScript model it mirrors. Real predictors are trained here
// (trainPredictor on synthetic measurements) for each space; each export form is written as JSON
// (latencyJson, what `hwlat export --format json` writes) together with the tfjs model's value and
// gradient at one-hot and random probabilities and the predictor's own prediction (what `hwlat
// predict` prints); the Python unittest suite (tests/python) then loads each JSON into the torch
// module under /usr/bin/python3 and checks value, gradient, finite differences, batches, the
// latency losses, the input checks and fetching the export from a real collector on 127.0.0.1.

const dir = mkdtempSync(join(tmpdir(), 'hwlat-torch-'));
let store: SqliteStore | null = null;
let collector: Collector | null = null;

/** Softmax of random logits over each layer's real candidates (padding 0). */
function randomProbs(m: LatencyModel, rng: () => number, spread: number): number[][] {
  return m.params.candidateNames.map((row) => {
    const e = row.map((n) => (n === null ? 0 : Math.exp(spread * (rng() - 0.5))));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / s);
  });
}

interface Point { what: string; probs: number[][]; value: number; grad: number[][]; predict: number | null }

/** One export form of one space: its JSON file and the TypeScript figures at a few points. */
function exportCase(name: string, predictor: LatencyPredictor, kind: PredictorKind, form: string) {
  const model = LatencyModel.fromPredictor(predictor, { kind });
  const p = model.params;
  assert.equal(p.form === 'enumerated' ? 'enumerated' : (p.mlpMode ?? (p.kind === 'lut-sum' ? 'lut-sum' : 'linear')), form, `${name}: the case is the form it claims`);
  const path = join(dir, `${name}.json`);
  writeFileSync(path, `${JSON.stringify(latencyJson(p))}\n`);
  const rng = seedrandom.alea(name);
  const points: Point[] = [];
  const space = predictor.space;
  for (let k = 0; k < 3; k++) {
    const idx = Int32Array.from(space.positions, (pos) => Math.floor(rng() * pos.choices.length));
    const probs = Array.from({ length: p.layers }, (_, l) => Array.from({ length: p.candidates }, (_, i) => (i === idx[l] ? 1 : 0)));
    const { latencyMs, grad } = model.valueAndGrad(probs);
    points.push({ what: `one-hot ${Array.from(idx).join(',')}`, probs, value: latencyMs, grad, predict: predictor.predictIndices([idx], kind)[0] as number });
  }
  for (const spread of [1, 4, 8]) {
    const probs = randomProbs(model, rng, spread);
    const { latencyMs, grad } = model.valueAndGrad(probs);
    points.push({ what: `random (logit spread ${spread})`, probs, value: latencyMs, grad, predict: null });
  }
  model.dispose();
  return { name, space: space.name, kind, form, mlp_mode: p.mlpMode, path, points };
}

/** The TypeScript losses' values, and which inputs they refuse, for the Python losses to match. */
function lossCases() {
  const cases: Array<{ loss: string; ce: number; lat: number; options: LatencyLossOptions; value: number | null; error: string | null }> = [];
  const fns = { 'proxyless-mul-log': proxylessMulLog, 'proxyless-add-linear': proxylessAddLinear, fbnet: fbnetLoss } as const;
  const inputs: Array<[keyof typeof fns, number, number, LatencyLossOptions]> = [
    ['proxyless-mul-log', 0.7, 2100, { ref: 2600 }],
    ['proxyless-mul-log', 1.3, 2100, { ref: 2600, alpha: 0.5, beta: 0.9 }],
    ['proxyless-mul-log', 0.7, 2100, { targetMs: 1800 }],
    ['proxyless-mul-log', 0.7, 1500, { targetMs: 1800, ref: 2500 }],
    ['proxyless-add-linear', 0.7, 2.1, { ref: 2.6 }],
    ['proxyless-add-linear', 0.7, 2.1, { ref: 2.6, lambda: 0.5 }],
    ['proxyless-add-linear', 0.7, 1.2, { targetMs: 1.8 }],
    ['fbnet', 0.7, 2100, {}],
    ['fbnet', 0.7, 2100, { alpha: 0.3, beta: 0.4, targetMs: 2500 }],
    // refused: no ref, ref 1, log E and log ref of opposite signs, FBNet's LAT ≤ 1, a negative target
    ['proxyless-mul-log', 0.7, 2100, {}],
    ['proxyless-mul-log', 0.7, 2100, { ref: 1 }],
    ['proxyless-mul-log', 0.7, 0.8, { ref: 2.6 }],
    ['proxyless-add-linear', 0.7, 2.1, {}],
    ['fbnet', 0.7, 0.9, {}],
    ['fbnet', 0.7, 2100, { targetMs: -1 }],
  ];
  for (const [loss, ce, lat, options] of inputs) {
    let value: number | null = null;
    let error: string | null = null;
    try {
      value = tf.tidy(() => fns[loss](ce, lat, options).dataSync()[0] as number);
    } catch (e) {
      error = (e as Error).message;
    }
    cases.push({ loss, ce, lat, options, value, error });
  }
  return cases;
}

let casesPath = '';
let cliCase: { path: string; arch: string; predictMs: number } | null = null;
const predictors: LatencyPredictor[] = [];

before(async () => {
  if (!torchProbe().ok) return; // the tests skip (or fail in CI) with the reason
  await initTf();
  const t0 = performance.now();
  const fbnet = await syntheticPredictor('fbnet', { epochs: 15, networks: 50 });
  const proxyless = await syntheticPredictor('proxyless-mobile', { epochs: 15, networks: 50 });
  const nb201 = await syntheticPredictor('nasbench201', { epochs: 15, networks: 50 });
  const cases = [];
  for (const [space, p] of [['fbnet', fbnet], ['proxyless', proxyless]] as const) {
    cases.push(
      exportCase(`${space}-lut-sum`, p, 'lut-sum', 'lut-sum'),
      exportCase(`${space}-composite`, withoutResidual(p), 'composite', 'linear'),
      exportCase(`${space}-residual-mlp`, withResidual(p, space), 'composite', 'residual'),
      exportCase(`${space}-encoding-mlp`, p, 'encoding-mlp', 'encoding'),
    );
  }
  for (const kind of ['lut-sum', 'composite', 'encoding-mlp'] as const) cases.push(exportCase(`nasbench201-enumerated-${kind}`, nb201, kind, 'enumerated'));
  casesPath = join(dir, 'cases.json');
  writeFileSync(casesPath, JSON.stringify({ cases, losses: lossCases() }));

  // the collector serves the FBNet predictor with its residual MLP, and the NAS-Bench-201 one
  predictors.push(withResidual(fbnet, 'fbnet'), nb201);
  store = openStore({ path: join(dir, 'collector.sqlite') });
  collector = await startCollector({ store, token: 'torch-secret-0123456789', port: 0, host: '127.0.0.1', predictors });

  // the CLI's own export and prediction of a saved predictor (what a user runs)
  const model = join(dir, 'fbnet-model');
  await savePredictor(withResidual(fbnet, 'fbnet'), model);
  const arch = fbnet.space.anchor as string;
  const path = join(dir, 'cli-export.json');
  const [ex, pr] = await Promise.all([
    hwlat(['export', '--model', model, '--space', 'fbnet', '--format', 'json', '--out', path, '--kind', 'composite']),
    hwlat(['predict', '--model', model, '--space', 'fbnet', '--arch', arch, '--kind', 'composite', '--json']),
  ]);
  assert.equal(ex.code, 0, ex.stderr);
  assert.equal(pr.code, 0, pr.stderr);
  cliCase = { path, arch, predictMs: (JSON.parse(pr.stdout) as { latency_ms: number }).latency_ms };
  process.stderr.write(`# reference cases ready in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
});

after(async () => {
  await collector?.close();
  store?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('python/hwlat_torch.py equals the TypeScript model on every export form and space (value, gradient, finite differences, losses, checks, HTTP)', async (t) => {
  if (!torchReady(t)) return;
  assert.ok(collector && cliCase);
  const r = await python(['-m', 'unittest', 'discover', '-s', 'tests/python', '-t', 'tests/python', '-p', 'test_*.py', '-v'], {
    env: {
      HWLAT_TORCH_CASES: casesPath,
      HWLAT_TORCH_COLLECTOR: JSON.stringify({ url: collector.url, device: predictors[0]?.data.deviceId, spaces: ['fbnet', 'nasbench201'] }),
      HWLAT_TORCH_CLI: JSON.stringify(cliCase),
    },
  });
  const out = `${r.stdout}${r.stderr}`;
  assert.equal(r.code, 0, out);
  // every test ran: the reference cases were given, so none may skip
  assert.doesNotMatch(out, /skipped/i, out);
  const ran = /Ran (\d+) tests?/.exec(out);
  assert.ok(ran && Number(ran[1]) >= 15, `expected the whole Python suite to run:\n${out}`);
  process.stderr.write(`# python: ${ran?.[0]} in ${(r.ms / 1000).toFixed(1)} s\n`);
});

test('hwlat_torch is importable by path and installs with pip from python/', async (t) => {
  if (!torchReady(t)) return;
  // pip builds in the source folder: install from a copy, so the checkout stays clean
  const src = join(dir, 'python-src');
  mkdirSync(src);
  for (const f of ['pyproject.toml', 'hwlat_torch.py']) copyFileSync(join(ROOT, 'python', f), join(src, f));
  const target = join(dir, 'site');
  const pip = await python(['-m', 'pip', 'install', '--no-deps', '--no-build-isolation', '--no-index', '--quiet', '--target', target, src], { timeoutMs: 120_000 });
  assert.equal(pip.code, 0, `${pip.stdout}${pip.stderr}`);
  const code = 'import hwlat_torch, sys; print(hwlat_torch.__file__); print(hwlat_torch.FORMAT)';
  const installed = await python(['-c', code], { env: { PYTHONPATH: target } });
  assert.equal(installed.code, 0, installed.stderr);
  assert.ok(installed.stdout.startsWith(target), installed.stdout);
  assert.match(installed.stdout, /hwlat-latency-model\/1/);
  const pyproject = readFileSync(join(ROOT, 'python', 'pyproject.toml'), 'utf8');
  assert.match(pyproject, /dependencies = \["torch/, 'torch is the one dependency');
});
