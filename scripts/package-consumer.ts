// hwlat the way another project meets it: the tarball `npm pack` makes (running `prepare`, the
// build), installed offline into a fresh project. Used by tests/package and scripts/bench/cli-startup.ts.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

interface LockEntry {
  version?: string;
  dev?: boolean;
  [k: string]: unknown;
}
interface Lock {
  lockfileVersion: number;
  packages: Record<string, LockEntry>;
}

/** The environment for an inner npm: a parent `npm test`/`npm run` leaves its own npm settings there, none but the cache may leak in. */
export function cleanNpmEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k) || k === 'npm_config_cache') env[k] = v;
  return env;
}

/** Thrown when npm's cache lacks a package: `npm ci` in the checkout fills it. */
export class NpmCacheMissError extends Error {
  override readonly name = 'NpmCacheMissError';
}

function run(cmd: string, args: string[], cwd: string, timeoutMs = 400_000): { stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: cleanNpmEnv(), timeout: timeoutMs });
  if (r.status !== 0) {
    if (/ENOTCACHED/.test(r.stderr)) throw new NpmCacheMissError(`npm's cache lacks a dependency of hwlat (run 'npm ci' in the checkout first): ${r.stderr.split('\n').find((l) => /request to/.test(l)) ?? ''}`);
    throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) exited ${r.status ?? r.signal}\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-4000)}`);
  }
  return { stdout: r.stdout, stderr: r.stderr };
}

/**
 * A project that depends on the tarball, with a package-lock.json that pins hwlat's dependencies
 * to the versions of this repository's own lock (its dev-only entries left out): npm then installs
 * from its cache with `--offline`, which needs no registry metadata, and the versions are the ones
 * the project's tests ran against. `allowScripts` is what a user's project writes (see the README):
 * better-sqlite3 builds its addon, onnxruntime-node's CUDA download is denied.
 */
export function writeConsumer(o: { root: string; dir: string; tarball: string }): void {
  const own = JSON.parse(readFileSync(join(o.root, 'package.json'), 'utf8')) as Record<string, unknown> & { version: string };
  const lock = JSON.parse(readFileSync(join(o.root, 'package-lock.json'), 'utf8')) as Lock;
  const spec = `file:${o.tarball}`;
  const pkg = {
    name: 'hwlat-consumer',
    version: '1.0.0',
    private: true,
    type: 'module',
    dependencies: { hwlat: spec },
    allowScripts: { 'better-sqlite3': true, esbuild: true, 'onnxruntime-node': false, protobufjs: false, 'core-js': false },
  };
  const packages: Record<string, LockEntry> = {
    '': { name: pkg.name, version: pkg.version, dependencies: pkg.dependencies },
    'node_modules/hwlat': {
      version: own.version,
      resolved: spec,
      integrity: `sha512-${createHash('sha512').update(readFileSync(o.tarball)).digest('base64')}`,
      license: own.license,
      dependencies: own.dependencies,
      bin: own.bin,
      engines: own.engines,
    },
  };
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path === '' || entry.dev) continue;
    packages[path] = entry;
  }
  writeFileSync(join(o.dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  writeFileSync(join(o.dir, 'package-lock.json'), `${JSON.stringify({ name: pkg.name, version: pkg.version, lockfileVersion: lock.lockfileVersion, requires: true, packages }, null, 2)}\n`);
}

/**
 * better-sqlite3's install script runs prebuild-install, which downloads a prebuilt addon (offline
 * it compiles one, ~75 s). prebuild-install's documented `local-prebuilds` folder gets the addon
 * this checkout already built, packed as the download would be: same version, same Node ABI. A
 * `.prebuild-installrc` in the project points there (an npm_config_* variable would make npm warn).
 * Without a built addon here, nothing is set up and it compiles.
 */
function shareSqliteAddon(o: { root: string; dir: string; prebuilds: string }): boolean {
  const sqliteDir = join(o.root, 'node_modules', 'better-sqlite3');
  if (!existsSync(join(sqliteDir, 'build', 'Release', 'better_sqlite3.node'))) return false;
  mkdirSync(o.prebuilds, { recursive: true });
  const version = (JSON.parse(readFileSync(join(sqliteDir, 'package.json'), 'utf8')) as { version: string }).version;
  const name = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  run('tar', ['-czf', join(o.prebuilds, name), '-C', sqliteDir, 'build/Release/better_sqlite3.node'], o.dir);
  writeFileSync(join(o.dir, '.prebuild-installrc'), `local-prebuilds=${o.prebuilds}\n`);
  return true;
}

export interface InstalledPackage {
  tarball: string;
  /** the consumer project */
  app: string;
  /** node_modules/hwlat in it */
  pkgDir: string;
  /** npm ci's stderr */
  installLog: string;
  sharedAddon: boolean;
  seconds: { pack: number; install: number };
}

/** `npm pack` of the checkout at `root` into `dir`, then `npm ci --offline` of a project using it in `dir/app`. */
export function packAndInstall(o: { root: string; dir: string }): InstalledPackage {
  let t = performance.now();
  run('npm', ['pack', '--pack-destination', o.dir], o.root);
  const pack = (performance.now() - t) / 1000;
  const tarballs = readdirSync(o.dir).filter((f) => f.endsWith('.tgz'));
  if (tarballs.length !== 1) throw new Error(`npm pack wrote ${tarballs.join(', ') || 'nothing'} into ${o.dir}`);
  const tarball = join(o.dir, tarballs[0] as string);
  const app = join(o.dir, 'app');
  mkdirSync(app);
  writeConsumer({ root: o.root, dir: app, tarball });
  const sharedAddon = shareSqliteAddon({ root: o.root, dir: app, prebuilds: join(o.dir, 'prebuilds') });
  t = performance.now();
  const { stderr } = run('npm', ['ci', '--offline', '--no-audit', '--no-fund'], app);
  return { tarball, app, pkgDir: join(app, 'node_modules', 'hwlat'), installLog: stderr, sharedAddon, seconds: { pack, install: (performance.now() - t) / 1000 } };
}
