// hwlat's latency model inside a PyTorch search loop (python/hwlat_torch.py), on this machine:
//  (a) forward + backward of E[latency] in PyTorch (softmax α → E[lat] → ∂/∂α), target < 1 ms,
//      for each form of this machine's FBNet export, plus shape-faithful synthetic exports of the
//      forms it lacks (scripts/bench/search-torch.py);
//  (b) the full PyTorch example (python/examples/proxyless_search.py, default budget): a
//      ProxylessNAS-style search with and without the latency term, both found architectures
//      trained from scratch, scored, and measured through `hwlat profile --arch`.
// The predictor is this machine's, built as a user builds it: `hwlat profile --space fbnet --ops
// --networks N`, `hwlat train`, `hwlat export --format json` (or `--model DIR`).
//
//   npx tsx scripts/bench/search-torch.ts [--json] [--model DIR] [--networks 150] [--lambda 0.3,1]
//       [--warmup 200] [--steps 300] [--train-steps 300] [--seed 0] [--reps 5] [--no-search]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PYTHON = '/usr/bin/python3';
const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    model: { type: 'string' },
    networks: { type: 'string', default: '150' },
    lambda: { type: 'string', default: '0.3,1' },
    loss: { type: 'string', default: 'proxyless-add-linear' },
    warmup: { type: 'string', default: '200' },
    steps: { type: 'string', default: '300' },
    'train-steps': { type: 'string', default: '300' },
    seed: { type: 'string', default: '0' },
    reps: { type: 'string', default: '5' },
    'no-search': { type: 'boolean', default: false },
  },
});
const num = (name: keyof typeof args, min = 0) => {
  const v = Number(args[name]);
  if (!Number.isFinite(v) || v < min) throw new RangeError(`'--${name}' must be a number >= ${min}, got '${String(args[name])}'`);
  return String(v);
};
const log = (s: string) => process.stderr.write(`${s}\n`);

/** One search run of the example's JSON. */
interface Run {
  arch: string;
  accuracy: number;
  predicted_ms: number;
  expected_ms: number;
  measured_ms: number;
  measured_at_model_speed_ms: number | null;
  prediction_error: number;
  search_seconds: number;
}

interface SearchFigures {
  baseline: Run;
  runs: Array<{ lambda: number; run: Run; measured_reduction: number; accuracy_delta: number }>;
  settings: unknown;
  measurement: unknown[];
}

/** Runs a command from the repository root; stderr streams through, stdout is returned. */
function run(cmd: string, argv: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${argv.slice(0, 3).join(' ')} … exited ${code}`))));
  });
}
const hwlat = (argv: string[]) => run(process.execPath, [join(ROOT, 'bin/hwlat.js'), ...argv]);

const tmp = mkdtempSync(join(tmpdir(), 'hwlat-bench-search-torch-'));
const t0 = performance.now();
const load0 = loadavg()[0] as number;
try {
  // this machine's FBNet predictor, as a user builds it
  let model = args.model;
  let profiled: unknown = null;
  if (!model) {
    const db = join(tmp, 'fbnet.sqlite');
    log(`profiling FBNet on this machine: every layer key and ${num('networks', 1)} networks`);
    profiled = JSON.parse(await hwlat(['profile', '--space', 'fbnet', '--ops', '--networks', num('networks', 1), '--db', db, '--min-time', '100', '--repeats', '20', '--json']));
    const device = (profiled as { device: { id: string } }).device.id;
    model = join(tmp, 'model');
    await hwlat(['train', '--db', db, '--device', device, '--space', 'fbnet', '--out', model, '--json']);
  }
  const exports: string[] = [];
  for (const kind of [null, 'lut-sum', 'composite', 'encoding-mlp']) {
    const out = join(tmp, `fbnet_latency${kind ? `_${kind}` : ''}.json`);
    try {
      await hwlat(['export', '--model', model, '--space', 'fbnet', '--format', 'json', '--out', out, ...(kind ? ['--kind', kind] : [])]);
      exports.push(out);
    } catch (e) {
      log(`no '${kind}' export: ${(e as Error).message}`);
    }
  }
  const defaultExport = exports[0] as string;

  // (a) forward + backward in PyTorch
  log('timing E[latency] forward + backward in PyTorch');
  const timing = JSON.parse(await run(PYTHON, ['scripts/bench/search-torch.py', ...exports.slice(1), '--synthetic', '--reps', num('reps', 1)])) as {
    torch: string;
    rows: Array<{ export: string; space: string; kind: string; form: string; mlp_mode: string | null; fwd_bwd_ms: number; fwd_bwd_validated_ms: number; batch64_fwd_bwd_ms: number }>;
  };

  // (b) the full example: the first λ beside the search without the latency term (the baseline),
  // further λ alone (the baseline's seed and budget are the same, so it is not searched again)
  let search: SearchFigures | null = null;
  if (!args['no-search']) {
    const lambdas = String(args.lambda).split(',').map((v) => {
      const x = Number(v);
      if (!(x > 0)) throw new RangeError(`'--lambda' must be numbers > 0 separated by commas, got '${String(args.lambda)}'`);
      return x;
    });
    let baseline: Run | null = null;
    const runs: SearchFigures['runs'] = [];
    const measurement: unknown[] = [];
    let settings: unknown = null;
    for (const [i, lam] of lambdas.entries()) {
      log(`running python/examples/proxyless_search.py, λ ${lam}${i === 0 ? ' and without the latency term' : ''}`);
      const out = JSON.parse(await run(PYTHON, [
        'python/examples/proxyless_search.py', '--latency-json', defaultExport, '--json', '--lambda', String(lam), '--loss', String(args.loss),
        '--warmup', num('warmup'), '--steps', num('steps'), '--train-steps', num('train-steps'), '--seed', num('seed'), ...(i > 0 ? ['--no-baseline'] : []),
      ])) as { runs: { latency: Run; baseline?: Run }; settings: unknown; measurement: unknown };
      baseline ??= out.runs.baseline as Run;
      settings = out.settings;
      measurement.push(out.measurement);
      const r = out.runs.latency;
      // each measurement is of its own pass: compare at the model's speed (calibration-normalised)
      const at = (x: Run) => x.measured_at_model_speed_ms ?? x.measured_ms;
      runs.push({ lambda: lam, run: r, measured_reduction: 1 - at(r) / at(baseline), accuracy_delta: r.accuracy - baseline.accuracy });
    }
    search = { baseline: baseline as Run, runs, settings, measurement };
  }

  const result = {
    date: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model, cores: cpus().length, loadAverageStart: load0, loadAverageEnd: loadavg()[0] },
    torch: timing.torch,
    model: args.model ?? 'profiled here',
    profiled,
    timing: timing.rows,
    search,
    seconds: (performance.now() - t0) / 1000,
  };
  if (args.json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } else {
    log('');
    log(`torch ${timing.torch}, 1 thread; load average ${load0.toFixed(1)} → ${(loadavg()[0] as number).toFixed(1)}`);
    log('| export | form | fwd+bwd | with input checks | batch of 64 |');
    log('|---|---|---|---|---|');
    for (const r of timing.rows) log(`| ${r.export} (${r.kind}) | ${r.form}${r.mlp_mode ? `, ${r.mlp_mode} MLP` : ''} | ${r.fwd_bwd_ms.toFixed(3)} ms | ${r.fwd_bwd_validated_ms.toFixed(3)} ms | ${r.batch64_fwd_bwd_ms.toFixed(3)} ms |`);
    if (search) {
      const row = (name: string, r: Run, red: string, acc: string) =>
        log(`| ${name} | ${(100 * r.accuracy).toFixed(1)}%${acc} | ${r.predicted_ms.toFixed(3)} ms | ${r.measured_ms.toFixed(3)} ms | ${r.measured_at_model_speed_ms?.toFixed(3) ?? '-'} ms${red} | ${(100 * r.prediction_error).toFixed(1)}% | ${r.search_seconds.toFixed(0)} s |`);
      log('');
      log("| run | held-out accuracy | predicted | measured | at the model's speed | prediction error | search time |");
      log('|---|---|---|---|---|---|---|');
      row('no latency term', search.baseline, '', '');
      for (const x of search.runs) row(`λ ${x.lambda}`, x.run, ` (${(-100 * x.measured_reduction).toFixed(1)}%)`, ` (${x.accuracy_delta >= 0 ? '+' : ''}${(100 * x.accuracy_delta).toFixed(1)} pts)`);
      log(`no latency term: ${search.baseline.arch}`);
      for (const x of search.runs) log(`λ ${x.lambda}: ${x.run.arch}`);
    }
    log(`${result.seconds.toFixed(0)} s`);
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
