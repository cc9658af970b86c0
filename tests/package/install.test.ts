import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess, type SpawnSyncOptions } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cleanNpmEnv, NpmCacheMissError, packAndInstall } from '../../scripts/package-consumer.ts';
import { ROOT } from '../helpers/cli.ts';

/*
 * hwlat the way another project meets it: `npm pack` (which runs `prepare`, the build), the tarball
 * installed offline into a fresh project, then its `hwlat` executable, its API, its types and the
 * pages `hwlat serve` builds at run time, all from node_modules/hwlat. Startup time is measured in
 * scripts/bench/cli-startup.ts, not here.
 */

function run(cmd: string, args: string[], o: SpawnSyncOptions & { cwd: string }): { stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: cleanNpmEnv(), timeout: 240_000, ...o });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} (in ${o.cwd}) exited ${r.status ?? r.signal}\n${String(r.stdout).slice(-2000)}\n${String(r.stderr).slice(-4000)}`);
  return { stdout: String(r.stdout), stderr: String(r.stderr) };
}

describe('the packed package, installed offline into another project', { timeout: 600_000 }, () => {
  let tmp = '';
  let app = '';
  let pkgDir = '';
  let skipped: string | undefined;

  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'hwlat-pack-'));
    try {
      const installed = packAndInstall({ root: ROOT, dir: tmp });
      assert.doesNotMatch(installed.installLog, /npm warn/i, installed.installLog);
      ({ app, pkgDir } = installed);
    } catch (e) {
      if (!(e instanceof NpmCacheMissError)) throw e;
      skipped = e.message;
    }
  });

  after(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  test('the tarball holds the build, the executable, the PyTorch module and no TypeScript sources', (t) => {
    if (skipped) return t.skip(skipped);
    assert.deepEqual(readdirSync(pkgDir).sort(), ['README.md', 'bin', 'dist', 'package.json', 'python']);
    // the PyTorch side ships beside the JavaScript (issue 20)
    assert.ok(existsSync(join(pkgDir, 'python', 'hwlat_torch.py')));
    assert.ok(existsSync(join(pkgDir, 'dist', 'cli', 'main.js')));
    assert.ok(existsSync(join(pkgDir, 'dist', 'types', 'predictor', 'index.d.ts')));
    // bin/hwlat.js runs the build only where no sources are beside it
    assert.ok(!existsSync(join(pkgDir, 'cli', 'main.ts')));
  });

  test('npx hwlat --help lists the commands; npx hwlat predict --help shows its examples', (t) => {
    if (skipped) return t.skip(skipped);
    const help = run('npx', ['--offline', 'hwlat', '--help'], { cwd: app }).stdout;
    for (const cmd of ['profile', 'train', 'predict', 'serve', 'agent', 'demo', 'export', 'search']) assert.match(help, new RegExp(`^  ${cmd} `, 'm'), help);
    const predict = run('npx', ['--offline', 'hwlat', 'predict', '--help'], { cwd: app }).stdout;
    assert.match(predict, /Examples:/, predict);
    // the executable cli/demo spawns for its agents
    assert.equal(run(process.execPath, [join(pkgDir, 'dist', 'bin', 'hwlat.js'), '--version'], { cwd: app }).stdout.trim(), '0.1.0');
  });

  test('a script imports the API and predicts: LUT predictor, saved and loaded, and the differentiable model agree with the LUT sum; E[latency] has a gradient', (t) => {
    if (skipped) return t.skip(skipped);
    writeFileSync(
      join(app, 'predict.mjs'),
      `import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildLutPredictor, loadLatencyModel, loadPredictor, savePredictor } from 'hwlat';
import { getSpace, sampleArchs, spaceUnits, specKey } from 'hwlat/ops-library';
import { tf } from 'hwlat/tf';

const space = getSpace('fbnet');
const lutMs = new Map([...spaceUnits(space).keys()].map((k, i) => [k, 0.05 + (i % 11) * 0.01]));
const predictor = await buildLutPredictor({ deviceId: 'dev-0123456789ab', space, calibrationMs: null, lutMs });
const archs = sampleArchs(space, { count: 4, seed: 7 });
const base = mkdtempSync(join(tmpdir(), 'hwlat-consumer-'));
const dir = join(base, 'model');
await savePredictor(predictor, dir);
const model = await loadLatencyModel(dir);
const oneHot = (arch) => {
  const chosen = space.parse(arch);
  return space.positions.map((p, i) => p.choices.map((c) => (c.name === chosen[i] ? 1 : 0)));
};
console.log(JSON.stringify({
  base,
  lutSum: archs.map((a) => space.units(a).reduce((s, u) => s + lutMs.get(specKey(u)), 0)),
  predicted: [...predictor.predictBatch(archs)],
  reloaded: [...(await loadPredictor(dir)).predictBatch(archs)],
  expected: archs.map((a) => model.expected(oneHot(a)).dataSync()[0]),
  // a search loop's step: the gradient of E[latency] under softmax(alpha)
  grad: (() => {
    const g = tf.grad((a) => model.expected(tf.softmax(a)))(tf.zeros([model.layers, model.candidates]));
    return { shape: g.shape, finite: [...g.dataSync()].every(Number.isFinite), nonzero: [...g.dataSync()].some((x) => x !== 0) };
  })(),
}));
`,
    );
    const out = JSON.parse(run(process.execPath, ['predict.mjs'], { cwd: app }).stdout) as Record<string, number[]> & { base: string; grad: { shape: number[]; finite: boolean; nonzero: boolean } };
    rmSync(out.base, { recursive: true, force: true });
    assert.equal(out.lutSum?.length, 4);
    out.lutSum?.forEach((sum, i) => {
      assert.ok(sum > 0.5, `LUT sum ${sum}`);
      assert.ok(Math.abs((out.predicted?.[i] ?? NaN) - sum) < 1e-9, `predicted ${out.predicted?.[i]} vs LUT sum ${sum}`);
      assert.equal(out.reloaded?.[i], out.predicted?.[i]);
      // float32 in tfjs
      assert.ok(Math.abs((out.expected?.[i] ?? NaN) - sum) < 1e-5 * sum, `E[latency] ${out.expected?.[i]} vs LUT sum ${sum}`);
    });
    // fbnet: 22 positions × 9 candidates
    assert.deepEqual(out.grad, { shape: [22, 9], finite: true, nonzero: true });
  });

  test("a TypeScript project type-checks against the package's declarations", (t) => {
    if (skipped) return t.skip(skipped);
    writeFileSync(
      join(app, 'check.ts'),
      `import { loadPredictor, type LatencyPredictor } from 'hwlat';
import { LatencyModel } from 'hwlat/differentiable';
import { getSpace, sampleArchs } from 'hwlat/ops-library';
import { createBackend } from 'hwlat/agent';
import { main } from 'hwlat/cli';

const p: Promise<LatencyPredictor> = loadPredictor('models/fbnet');
const archs: string[] = sampleArchs(getSpace('fbnet'), { count: 2 });
// @ts-expect-error: the declarations are real types, not any
void loadPredictor(42);
export { p, archs, LatencyModel, createBackend, main };
`,
    );
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, noEmit: true, skipLibCheck: true, types: [] }, files: ['check.ts'] }),
    );
    const tsc = createRequire(join(ROOT, 'package.json')).resolve('typescript/bin/tsc');
    run(process.execPath, [tsc, '-p', '.'], { cwd: app });
  });

  test('hwlat serve from the package serves the dashboard and the /agent page (bundled at run time from dist)', async (t) => {
    if (skipped) return t.skip(skipped);
    const token = 'package-test-token-0123';
    const child: ChildProcess = spawn(process.execPath, [join(app, 'node_modules', '.bin', 'hwlat'), 'serve', '--db', join(tmp, 'serve.sqlite'), '--port', '0', '--log-json', '--token', token], {
      cwd: app,
      env: cleanNpmEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (d) => (stderr += d));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let buf = '';
        const timer = setTimeout(() => reject(new Error(`hwlat serve did not listen in 60 s: ${stderr}`)), 60_000);
        child.stdout?.on('data', (d) => {
          buf += d;
          const line = buf.split('\n').find((l) => l.includes('"listening"'));
          if (line) {
            clearTimeout(timer);
            resolve((JSON.parse(line) as { url: string }).url);
          }
        });
        child.once('exit', (code) => reject(new Error(`hwlat serve exited ${code}: ${stderr}`)));
      });
      const get = async (path: string) => {
        const res = await fetch(`${url}${path}`);
        const body = await res.text();
        assert.equal(res.status, 200, `GET ${path}: ${res.status} ${body.slice(0, 300)}`);
        return body;
      };
      assert.match(await get('/dashboard/index.html'), /<html/i);
      assert.match(await get('/dashboard/style.css'), /\{/);
      // esbuild bundles dist/collector/dashboard/page/main.ts on this request
      assert.ok((await get('/dashboard/app.js')).length > 1000);
      assert.match(await get(`/agent?token=${token}`), /app\.js/);
      // and dist/agent/browser/main.ts with everything it imports, onnxruntime-web included
      assert.ok((await get('/agent/app.js')).length > 100_000);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
    }
  });
});
