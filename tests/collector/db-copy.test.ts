import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { PgNotifier, openStore, openStoreAt, type ChangeEvent, type Store } from '../../collector/index.ts';
import { getSpace, spaceUnits } from '../../ops-library/index.ts';
import { CopyTargetNotEmptyError, TABLE_NAMES, copyDatabase } from '../../collector/store/copy/index.ts';
import { hwlat } from '../helpers/cli.ts';
import { testPostgres } from '../helpers/postgres.ts';
import { DEV, dumpStore, populate } from '../helpers/store-fixture.ts';

const pgt = await testPostgres();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hwlat-db-copy-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/**
 * Every row of every copied table, as SQLite holds it: measurements in insertion (rowid) order,
 * which "a device's last results" depends on and a copy keeps; other tables by their key.
 */
const ORDER: Record<string, string> = { campaign_tasks: 'campaign_id, idx', campaign_devices: 'campaign_id, device_id', measurements: 'rowid', timed_kernels: 'profile_id, position' };
function rawTables(file: string): Record<string, unknown[]> {
  const db = new Database(file, { readonly: true });
  try {
    return Object.fromEntries(TABLE_NAMES.map((t) => [t, db.prepare(`SELECT * FROM ${t} ORDER BY ${ORDER[t] ?? 'id'}`).all()]));
  } finally {
    db.close();
  }
}

async function withStore<T>(location: string, fn: (s: Store) => Promise<T>): Promise<T> {
  const s = await openStoreAt(location);
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

/** A SQLite file holding the fixture fleet. */
async function populated(name: string): Promise<string> {
  const file = path.join(dir, name);
  const s = openStore({ path: file });
  try {
    await populate(s);
  } finally {
    await s.close();
  }
  return file;
}

describe('hwlat db copy: SQLite ↔ PostgreSQL without loss', { skip: pgt.skip }, () => {
  it('SQLite → PostgreSQL → SQLite: the stores read the same and the final file holds the same rows, bit for bit', async () => {
    const a = await populated('a.sqlite');
    const pgUrl = await pgt.createDatabase();
    const b = path.join(dir, 'b.sqlite');

    const progress: number[] = [];
    const s1 = await copyDatabase({ from: a, to: pgUrl, batchSize: 3, onProgress: (p) => progress.push(p.done) });
    assert.equal(s1.fromKind, 'sqlite');
    assert.equal(s1.toKind, 'postgres');
    assert.equal(s1.replaced, null);
    assert.equal(s1.tables.devices, 2);
    assert.equal(s1.tables.measurements, 7);
    assert.equal(s1.tables.kernel_profiles, 2);
    assert.equal(s1.tables.timed_kernels, 4);
    assert.equal(s1.rows, TABLE_NAMES.reduce((n, t) => n + s1.tables[t], 0));
    assert.equal(progress.at(-1), s1.rows);
    assert.ok(progress.every((d, i) => i === 0 || d >= progress[i - 1]!), 'progress never goes back');

    // the PostgreSQL store answers every read as the SQLite store does
    const fromSqlite = await withStore(a, dumpStore);
    const fromPg = await withStore(pgUrl, dumpStore);
    assert.deepEqual(fromPg, fromSqlite);

    const s2 = await copyDatabase({ from: pgUrl, to: b });
    assert.deepEqual(s2.tables, s1.tables);
    assert.deepEqual(rawTables(b), rawTables(a));

    // the copy works on: the job queue carries on where it was (the leased job is still leased)
    await withStore(pgUrl, async (s) => {
      const again = await s.leaseJobs({ deviceId: DEV, agentId: 'agent-x', max: 10, ttlMs: 1000, now: 1_750_000_000_000 + 10_000 });
      assert.deepEqual(again.jobs.map((j) => j.task.key), [], 'nothing leasable: done, leased until later, held back, given up');
    });
  });

  it('refuses a target that holds data, writing nothing; --force replaces it in one transaction', async () => {
    const a = await populated('c.sqlite');
    const pgUrl = await pgt.createDatabase();
    await copyDatabase({ from: a, to: pgUrl });
    const before = await withStore(pgUrl, dumpStore);

    await assert.rejects(copyDatabase({ from: a, to: pgUrl }), (err: Error) => {
      assert.ok(err instanceof CopyTargetNotEmptyError);
      assert.match(err.message, /is not empty \(2 devices, 2 passes, 2 campaigns, .*7 measurements.*\); .*--force/);
      return true;
    });
    assert.deepEqual(await withStore(pgUrl, dumpStore), before);

    // an extra device in the target goes; what the source holds comes in
    await withStore(pgUrl, (s) => s.upsertDevice({ ...(before.devices as { id: string }[])[0]!, id: 'dev-eeeeeeeeeeee' } as never));
    const forced = await copyDatabase({ from: a, to: pgUrl, force: true });
    assert.equal(forced.replaced?.devices, 3);
    assert.deepEqual(await withStore(pgUrl, dumpStore), before);
  });

  it('refuses a copy onto itself and a source that does not exist', async () => {
    const a = await populated('d.sqlite');
    await assert.rejects(copyDatabase({ from: a, to: path.join(dir, '.', 'd.sqlite') }), /is the source database itself/);
    await assert.rejects(copyDatabase({ from: path.join(dir, 'missing.sqlite'), to: path.join(dir, 'x.sqlite') }), /missing\.sqlite.*does not exist/);
    assert.equal(fs.existsSync(path.join(dir, 'x.sqlite')), false, 'no target is created for a failed copy');
    const pgUrl = await pgt.createDatabase();
    await assert.rejects(copyDatabase({ from: pgUrl, to: pgUrl.replace('postgres://', 'postgresql://') }), /is the source database itself/);
  });

  it('the CLI: --json summary, a non-empty target is an error exit naming --force', async () => {
    const a = await populated('e.sqlite');
    const pgUrl = await pgt.createDatabase();
    const ok = await hwlat(['db', 'copy', '--from', a, '--to', pgUrl, '--json'], { timeoutMs: 60_000 });
    assert.equal(ok.code, 0, ok.stderr);
    const summary = JSON.parse(ok.stdout) as { tables: Record<string, number>; rows: number; toKind: string };
    assert.equal(summary.toKind, 'postgres');
    assert.equal(summary.tables.measurements, 7);
    // a command's --db takes the URL as it takes a file: the same answer from either store
    const fromPg = await hwlat(['measurements', '--db', pgUrl, '--json'], { timeoutMs: 60_000 });
    const fromFile = await hwlat(['measurements', '--db', a, '--json'], { timeoutMs: 60_000 });
    assert.equal(fromPg.code, 0, fromPg.stderr);
    assert.deepEqual(JSON.parse(fromPg.stdout), JSON.parse(fromFile.stdout));
    const badUrl = await hwlat(['measurements', '--db', 'postgres://hwlat@127.0.0.1:5432'], { timeoutMs: 60_000 });
    assert.equal(badUrl.code, 1);
    assert.match(badUrl.stderr, /hwlat: error: invalid --db: 'postgres:\/\/hwlat@127\.0\.0\.1:5432' names no database/);
    const again = await hwlat(['db', 'copy', '--from', a, '--to', pgUrl], { timeoutMs: 60_000 });
    assert.equal(again.code, 1);
    assert.match(again.stderr, /hwlat: error: target 'postgres:\/\/.*' is not empty .*--force/);
    const text = await hwlat(['db', 'copy', '--from', pgUrl, '--to', path.join(dir, 'e2.sqlite')], { timeoutMs: 60_000 });
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /copied \d+ rows from postgres:\/\/.* \(postgres\) to .*e2\.sqlite \(sqlite\)/);
    assert.match(text.stdout, /measurements\s+7/);
  });
  it('writers outside a collector announce to the replicas: a CLI command writing rows, and a copy (resync)', async () => {
    const pgUrl = await pgt.createDatabase();
    // a replica's notifier, listening as `hwlat serve` would
    const replica = new PgNotifier({ url: pgUrl, origin: 'replica-test' });
    await replica.start();
    const heard: ChangeEvent[] = [];
    replica.subscribe((e) => heard.push(e));
    try {
      const keys = [...spaceUnits(getSpace('fbnet')).keys()];
      const csv = path.join(dir, 'announce.csv');
      fs.writeFileSync(csv, ['key,count,mean,var', ...keys.map((k, i) => `${k},20,${(0.02 + i * 0.001).toFixed(3)},0.0001`)].join('\n'));
      const imp = await hwlat(['lut', 'import', '--db', pgUrl, '--device', 'announced', '--format', 'csv', '--file', csv, '--space', 'fbnet', '--json'], { timeoutMs: 60_000 });
      assert.equal(imp.code, 0, imp.stderr);
      const id = (JSON.parse(imp.stdout) as { device: { id: string } }).device.id;
      const deadline = Date.now() + 10_000;
      while (!heard.some((e) => e.kind === 'measurements') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(
        [...new Set(heard.map((e) => `${e.kind} ${e.deviceId}`))].sort(),
        [`devices ${id}`, `measurements ${id}`],
        'the device and measurements of the import, announced by the CLI process',
      );
      assert.ok(heard.every((e) => e.origin !== 'replica-test' && e.version > 0));

      heard.length = 0;
      const a = await populated('announce.sqlite');
      const copy = await hwlat(['db', 'copy', '--from', a, '--to', pgUrl, '--force', '--json'], { timeoutMs: 60_000 });
      assert.equal(copy.code, 0, copy.stderr);
      const until = Date.now() + 10_000;
      while (heard.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(heard.map((e) => [e.kind, e.deviceId]), [['resync', null]], 'a copy replaced everything: one resync');
    } finally {
      await replica.close();
    }
  });
});
