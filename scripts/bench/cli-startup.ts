// Startup time of the `hwlat` executable, the way a user meets it: the checkout packed with
// `npm pack` (which builds dist/ in `prepare`), installed offline into a fresh project, then
//  - `node_modules/.bin/hwlat --help` (the installed executable: bin/hwlat.js → dist/), target < 0.5 s;
//  - `npx hwlat --help` (the same behind npm's own start-up), and `npx node -e 0`, that start-up alone;
//  - `node_modules/.bin/hwlat predict --help` (one command's module loaded: predictor, collector, tfjs);
//  - `node bin/hwlat.js --help` in the checkout (the TypeScript sources through tsx), for comparison;
//  - `node -e 0`, Node's own start-up on this machine.
// Each is run --runs times after one untimed run (the file cache warm); medians and p10/p90 of
// wall time. The machine's load average is printed with the figures: on a busy machine they grow.
//
//   npx tsx scripts/bench/cli-startup.ts [--runs 15] [--json] [--app DIR]
//   (--app: time an existing consumer project instead of packing and installing one, ~2 min)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { quantile } from 'simple-statistics';
import { cleanNpmEnv, packAndInstall } from '../package-consumer.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '15' }, json: { type: 'boolean', default: false }, app: { type: 'string' } } });
const RUNS = Number(args.runs);
if (!Number.isInteger(RUNS) || RUNS < 1) throw new RangeError(`'--runs' must be an integer >= 1, got '${args.runs}'`);

function timeOnce(cmd: string, argv: string[], cwd: string): number {
  const t = performance.now();
  const r = spawnSync(cmd, argv, { cwd, env: cleanNpmEnv(), stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} (in ${cwd}) exited ${r.status ?? r.signal}: ${r.stderr}`);
  return ms;
}

function bench(label: string, cmd: string, argv: string[], cwd: string) {
  timeOnce(cmd, argv, cwd);
  const ms = Array.from({ length: RUNS }, () => timeOnce(cmd, argv, cwd));
  return { label, command: `${cmd === process.execPath ? 'node' : cmd} ${argv.join(' ')}`, medianMs: quantile(ms, 0.5), p10Ms: quantile(ms, 0.1), p90Ms: quantile(ms, 0.9) };
}

let tmp: string | undefined;
let app = args.app;
let install: { packS: number; installS: number; sharedAddon: boolean } | null = null;
if (app === undefined) {
  tmp = mkdtempSync(join(tmpdir(), 'hwlat-startup-'));
  if (!args.json) process.stderr.write('packing and installing the package offline (~2 min)…\n');
  const installed = packAndInstall({ root: ROOT, dir: tmp });
  app = installed.app;
  install = { packS: installed.seconds.pack, installS: installed.seconds.install, sharedAddon: installed.sharedAddon };
}
try {
  const loadBefore = loadavg()[0] as number;
  const bin = join(app, 'node_modules', '.bin', 'hwlat');
  const rows = [
    bench('installed: hwlat --help', bin, ['--help'], app),
    bench('installed: npx hwlat --help', 'npx', ['--offline', 'hwlat', '--help'], app),
    bench("npx's own start-up: npx node -e 0", 'npx', ['--offline', 'node', '-e', '0'], app),
    bench('installed: hwlat predict --help', bin, ['predict', '--help'], app),
    bench('checkout (tsx sources): hwlat --help', process.execPath, [join(ROOT, 'bin', 'hwlat.js'), '--help'], ROOT),
    bench('node -e 0', process.execPath, ['-e', '0'], app),
  ];
  const machine = { cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version, loadBefore, loadAfter: loadavg()[0] as number };
  if (args.json) process.stdout.write(`${JSON.stringify({ runs: RUNS, machine, install, rows }, null, 2)}\n`);
  else {
    const f = (x: number) => `${(x / 1000).toFixed(2)} s`;
    process.stdout.write(
      [
        `${RUNS} runs each, ${machine.cpus} × ${machine.cpu}, Node ${machine.node}, load average ${machine.loadBefore.toFixed(1)} → ${machine.loadAfter.toFixed(1)}` +
          (install ? `; npm pack ${install.packS.toFixed(0)} s, npm ci --offline ${install.installS.toFixed(0)} s${install.sharedAddon ? ' (better-sqlite3 from the local prebuild)' : ''}` : ''),
        '| what | median | p10–p90 |',
        '|---|---|---|',
        ...rows.map((r) => `| ${r.label} | ${f(r.medianMs)} | ${f(r.p10Ms)}–${f(r.p90Ms)} |`),
      ].join('\n') + '\n',
    );
  }
} finally {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}
