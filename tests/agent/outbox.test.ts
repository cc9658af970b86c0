import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Outbox } from '../../agent/index.ts';
import type { ResultMessage } from '../../protocol/index.ts';

function result(n: number, resultId = `result-${String(n).padStart(4, '0')}`): ResultMessage {
  return {
    type: 'result',
    resultId,
    jobId: `job-${n}`,
    passId: 'pass-00000000',
    stats: { median: 1 + n, mean: 1 + n, p10: 1, p90: 2 + n, stddev: 0.1, min: 0.9, cv: 0.05, repeats: 10, outliers: 0 },
    batch: 1,
    warmup: 3,
    wallMs: 12.5,
    calibrationMs: 0.8,
    createdAt: new Date(0).toISOString(),
  };
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'hwlat-outbox-'));
}

test('put, list (in creation order) and remove', async () => {
  const dir = tempDir();
  try {
    const outbox = new Outbox(join(dir, 'outbox'));
    assert.deepEqual(await outbox.list(), []);
    // ids that do not sort the way they were created: the order must still be creation order
    const ids = ['zzzz-last-id', 'aaaa-first-id', 'mmmm-middle', 'weird id/with:chars?'];
    for (const [i, id] of ids.entries()) await outbox.put(result(i, id));
    assert.deepEqual((await outbox.list()).map((r) => r.resultId), ids);
    assert.deepEqual(await outbox.list().then((l) => l[3]), result(3, ids[3]));

    await outbox.remove(['aaaa-first-id', 'weird id/with:chars?', 'never-stored']);
    assert.deepEqual((await outbox.list()).map((r) => r.resultId), ['zzzz-last-id', 'mmmm-middle']);

    // putting an id again replaces it in place
    await outbox.put({ ...result(9, 'zzzz-last-id') });
    const after = await outbox.list();
    assert.deepEqual(after.map((r) => r.resultId), ['zzzz-last-id', 'mmmm-middle']);
    assert.equal(after[0]?.jobId, 'job-9');

    await outbox.remove([]);
    await outbox.remove(['zzzz-last-id', 'mmmm-middle']);
    assert.deepEqual(await outbox.list(), []);
    assert.deepEqual(readdirSync(join(dir, 'outbox')), [], 'no files left behind');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('pending results survive re-opening the folder (a restarted agent)', async () => {
  const dir = tempDir();
  try {
    const first = new Outbox(dir);
    for (let i = 0; i < 5; i++) await first.put(result(i));
    await first.remove(['result-0002']);
    const reopened = new Outbox(dir);
    assert.deepEqual((await reopened.list()).map((r) => r.resultId), ['result-0000', 'result-0001', 'result-0003', 'result-0004']);
    // new entries of the new process come after the old ones
    await reopened.put(result(7, 'aaaa-newest'));
    assert.equal((await new Outbox(dir).list()).at(-1)?.resultId, 'aaaa-newest');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a torn tmp file is never listed, and a stale one is swept on open', async () => {
  const dir = tempDir();
  try {
    const outbox = new Outbox(dir);
    await outbox.put(result(1));
    // what a crash between write and rename leaves: a half-written tmp file
    const torn = join(dir, `.000000000000001-000000-result-0002.json.123.abcd.tmp`);
    writeFileSync(torn, '{"version":1,"storedAt":"2024-01-01T00:00:00.000Z","result":{"type":"res');
    assert.deepEqual((await outbox.list()).map((r) => r.resultId), ['result-0001']);
    assert.ok(readdirSync(dir).includes(torn.slice(dir.length + 1)), 'a fresh tmp file may be a live write: left alone');
    const old = new Date(Date.now() - 10 * 60_000);
    utimesSync(torn, old, old);
    const reopened = new Outbox(dir);
    assert.ok(!readdirSync(dir).some((f) => f.endsWith('.tmp')), 'a stale tmp file is swept');
    assert.deepEqual((await reopened.list()).map((r) => r.resultId), ['result-0001']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a corrupt entry is set aside and reported, the rest still listed', async () => {
  const dir = tempDir();
  try {
    const corrupt: string[] = [];
    const outbox = new Outbox(dir, { onCorrupt: (file) => corrupt.push(file) });
    await outbox.put(result(1));
    writeFileSync(join(dir, '000000000000001-000000-broken-entry.json'), 'not json');
    assert.deepEqual((await outbox.list()).map((r) => r.resultId), ['result-0001']);
    assert.deepEqual(corrupt, ['000000000000001-000000-broken-entry.json']);
    assert.ok(readdirSync(dir).includes('000000000000001-000000-broken-entry.json.corrupt'));
    assert.equal((await outbox.list()).length, 1, 'not reported again');
    assert.equal(corrupt.length, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('put refuses an invalid result, naming the field', async () => {
  const dir = tempDir();
  try {
    const outbox = new Outbox(dir);
    await assert.rejects(outbox.put({ ...result(1), resultId: 'short' }), /'result\.resultId' is invalid/);
    await assert.rejects(outbox.put({ ...result(1), stats: { ...result(1).stats, median: -1 } }), /'result\.stats\.median' is invalid/);
    assert.deepEqual(await outbox.list(), []);
    assert.throws(() => new Outbox(''), /'dir' must be a non-empty folder path/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
