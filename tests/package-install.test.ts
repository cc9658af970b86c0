import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ROOT } from './helpers/cli.ts';

test('npm: every dependency install script is reviewed in allowScripts (onnxruntime-node\'s CUDA download denied), and npm warns about nothing', () => {
  const pkg = JSON.parse(readFileSync(`${ROOT}/package.json`, 'utf8')) as { allowScripts?: Record<string, boolean> };
  assert.equal(pkg.allowScripts?.['onnxruntime-node'], false, 'onnxruntime-node\'s postinstall downloads CUDA binaries and fails offline');
  assert.equal(pkg.allowScripts?.['better-sqlite3'], true, 'better-sqlite3 compiles its addon in its install script');
  const r = spawnSync('npm', ['install-scripts', 'ls'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /No packages with unreviewed install scripts/);
  assert.doesNotMatch(r.stderr, /npm warn/, r.stderr);
});
