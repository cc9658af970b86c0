// `hwlat serve` on a real PostgreSQL (HWLAT_TEST_PG, or a throwaway cluster from
// tests/helpers/postgres.ts; without either the tests skip, saying why; CI=1 fails): the store's
// connection pool is as large as --pool-size says, and a bad size is refused before anything opens.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { hwlat } from '../helpers/cli.ts';
import { testPostgres } from '../helpers/postgres.ts';
import { spawnHwlat, type HwlatProcess } from '../helpers/procs.ts';

const pgt = await testPostgres();
const TOKEN = 'serve-postgres-token-0123';
const procs: HwlatProcess[] = [];
after(() => procs.forEach((p) => p.kill('SIGKILL')));

describe('hwlat serve --db postgres://…', { skip: pgt.skip }, () => {
  it('--pool-size caps the store connections a replica opens; 0 is refused naming the flag', async () => {
    const url = await pgt.createDatabase();
    const bad = await hwlat(['serve', '--db', url, '--token', TOKEN, '--pool-size', '0'], { timeoutMs: 30_000 });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--pool-size/);

    const serve = spawnHwlat(['serve', '--db', url, '--host', '127.0.0.1', '--port', '0', '--token', TOKEN, '--pool-size', '2', '--log-json'], 'serve');
    procs.push(serve);
    const ev = await serve.waitFor((e) => e.event === 'listening', 30_000);
    // 40 store reads at once: a pool of 10 would open more than 2
    const answers = await Promise.all(Array.from({ length: 40 }, () => fetch(`${ev.url}/api/devices`, { headers: { authorization: `Bearer ${TOKEN}` } })));
    assert.ok(answers.every((r) => r.status === 200), answers.map((r) => r.status).join(' '));
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ n: number }>(
        "SELECT COUNT(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'hwlat'",
      );
      assert.ok(rows[0]!.n >= 1 && rows[0]!.n <= 2, `${rows[0]!.n} store connections`);
    } finally {
      await admin.end();
    }
    serve.kill();
    assert.equal(await serve.exited, 0);
  });
});
