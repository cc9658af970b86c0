import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { spaceUnits, getSpace } from '../../ops-library/index.ts';

const BIN = fileURLToPath(new URL('../../bin/hwlat.js', import.meta.url));

/** `hwlat` run in `cwd`, where the default database hwlat.sqlite is looked for. */
function hwlatIn(cwd: string, args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A LUT of every fbnet unit as CSV, to import as a device without measuring anything. */
function writeLutCsv(path: string): number {
  const keys = [...spaceUnits(getSpace('fbnet')).keys()];
  writeFileSync(path, `key,mean\n${keys.map((k, i) => `"${k.replace(/"/g, '""')}",${(0.05 + (i % 7) * 0.01).toFixed(3)}`).join('\n')}\n`);
  return keys.length;
}

describe('--db defaults to hwlat.sqlite and --device to the database\'s only device', () => {
  let tmp = '';
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'hwlat-defaults-'));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  test('a command that reads a database fails clearly where the default file is missing, and creates nothing', async () => {
    const empty = join(tmp, 'empty');
    mkdirSync(empty);
    const runs = await Promise.all([
      hwlatIn(empty, ['train', '--space', 'fbnet', '--out', 'm']),
      hwlatIn(empty, ['measurements']),
      hwlatIn(empty, ['lut', 'build', '--format', 'csv', '--out', 'lut.csv']),
      hwlatIn(empty, ['fewshot', '--device', 'dev-0123456789ab', '--space', 'fbnet']),
    ]);
    for (const r of runs) {
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /database 'hwlat\.sqlite' does not exist \(looked for .*empty\/hwlat\.sqlite\): '--db' defaults to hwlat\.sqlite in the current folder/, r.stderr);
    }
    const named = await hwlatIn(empty, ['eval', '--space', 'fbnet', '--db', 'lat.sqlite']);
    assert.equal(named.code, 1);
    assert.match(named.stderr, /database 'lat\.sqlite' does not exist .*create it with 'hwlat profile --db lat\.sqlite'/, named.stderr);
    assert.ok(!existsSync(join(empty, 'hwlat.sqlite')) && !existsSync(join(empty, 'lat.sqlite')), 'a read created a database file');
  });

  test('fewshot without --device or --db stays with its files (no database needed)', async () => {
    const r = await hwlatIn(tmp, ['fewshot', '--space', 'fbnet', '--archs', 'missing.csv', '--reference', 'r.csv', '--target', 't.csv', '--out', 'o.csv']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot read --archs 'missing\.csv'/, r.stderr);
  });

  test('one device: lut build and train use it; a second device makes --device required, naming both; an unknown one lists the known', async () => {
    const dir = join(tmp, 'fleet');
    mkdirSync(dir);
    const entries = writeLutCsv(join(dir, 'lut.csv'));
    const first = await hwlatIn(dir, ['lut', 'import', '--device', 'pixel4', '--format', 'csv', '--file', 'lut.csv', '--space', 'fbnet', '--json']);
    assert.equal(first.code, 0, first.stderr);
    const pixel = (JSON.parse(first.stdout) as { device: { id: string } }).device.id;
    assert.ok(existsSync(join(dir, 'hwlat.sqlite')), 'lut import writes the default database');

    const [built, trained] = await Promise.all([
      hwlatIn(dir, ['lut', 'build', '--format', 'csv', '--out', 'built.csv', '--json']),
      hwlatIn(dir, ['train', '--space', 'fbnet', '--out', 'model', '--json']),
    ]);
    assert.equal(built.code, 0, built.stderr);
    assert.equal((JSON.parse(built.stdout) as { device: { id: string } }).device.id, pixel);
    assert.ok(readFileSync(join(dir, 'built.csv'), 'utf8').startsWith('key,'));
    assert.equal(trained.code, 0, trained.stderr);
    assert.equal((JSON.parse(trained.stdout) as { device: string }).device, pixel);

    const second = await hwlatIn(dir, ['lut', 'import', '--device', 'note10', '--format', 'csv', '--file', 'lut.csv', '--space', 'fbnet', '--json']);
    assert.equal(second.code, 0, second.stderr);
    const note = (JSON.parse(second.stdout) as { device: { id: string } }).device.id;
    const [ambiguous, unknown] = await Promise.all([
      hwlatIn(dir, ['train', '--space', 'fbnet', '--out', 'model2']),
      hwlatIn(dir, ['lut', 'build', '--device', 'dev-000000000000', '--format', 'csv', '--out', 'x.csv']),
    ]);
    assert.equal(ambiguous.code, 1);
    assert.match(ambiguous.stderr, /'--device <id>' is required: 'hwlat\.sqlite' holds 2 devices:/, ambiguous.stderr);
    assert.match(ambiguous.stderr, new RegExp(`${pixel}\\s+pixel4 .*${entries} measurements`));
    assert.match(ambiguous.stderr, new RegExp(`${note}\\s+note10`));
    assert.ok(!existsSync(join(dir, 'model2')), 'an ambiguous train wrote a model');
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, new RegExp(`unknown device 'dev-000000000000'; known: ${pixel}, ${note}`), unknown.stderr);
  });
});
