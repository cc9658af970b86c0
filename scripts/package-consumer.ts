import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

interface LockEntry {
  version?: string;
  dev?: boolean;
  [k: string]: unknown;
}
interface Lock {
  name: string;
  lockfileVersion: number;
  packages: Record<string, LockEntry>;
}

/**
 * A project that depends on the packed tarball, with a package-lock.json that pins hwlat's
 * dependencies to the versions of this repository's own lock (its dev-only entries left out): npm
 * then installs from its cache with `--offline`, which needs no registry metadata, and the versions
 * are the ones the project's tests ran against. `allowScripts` is what a user's project writes (see
 * the README): better-sqlite3 builds its addon, onnxruntime-node's CUDA download is denied.
 */
export function writeConsumer(o: { root: string; dir: string; tarball: string; integrity: string }): void {
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
      integrity: o.integrity,
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
