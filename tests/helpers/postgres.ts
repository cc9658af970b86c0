import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

/**
 * A real PostgreSQL for the tests. HWLAT_TEST_PG (a server URL whose user may CREATE DATABASE, as
 * .ci/run exports it) wins; otherwise, where Debian's server binaries are installed, a throwaway
 * cluster is started for this test process (scripts/pg-throwaway.sh) and stopped and removed when
 * the process exits. Neither: the tests that need it skip, saying why, except under CI=1, where
 * a missing server is a failure (CI must never pass by skipping them).
 *
 * Every database made here is fresh and empty and dropped when the process exits, so test files
 * (and tests) never see each other's rows.
 *
 * @example
 * const pgt = await testPostgres();
 * describe('store on PostgreSQL', { skip: pgt.skip }, () => {
 *   it('…', async () => { const url = await pgt.createDatabase(); … });
 * });
 */
export interface TestPostgres {
  /** why the tests skip; undefined when a server is there */
  skip: string | undefined;
  /** the server's URL (its maintenance database); '' when skipped */
  serverUrl: string;
  /** a fresh, empty database on the server; its URL */
  createDatabase(): Promise<string>;
}

const ROOT = path.resolve(import.meta.dirname, '../..');
const SCRIPT = path.join(ROOT, 'scripts/pg-throwaway.sh');

let pending: Promise<TestPostgres> | undefined;

/** The test process's PostgreSQL (one per process, started on first use). */
export function testPostgres(): Promise<TestPostgres> {
  pending ??= setUp();
  return pending;
}

function serverBinariesInstalled(): boolean {
  if (process.env.PG_BIN) return fs.existsSync(path.join(process.env.PG_BIN, 'initdb'));
  try {
    return fs.readdirSync('/usr/lib/postgresql').some((v) => fs.existsSync(`/usr/lib/postgresql/${v}/bin/initdb`));
  } catch {
    return false;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

async function setUp(): Promise<TestPostgres> {
  let serverUrl = process.env.HWLAT_TEST_PG ?? '';
  if (serverUrl === '') {
    if (!serverBinariesInstalled()) {
      const reason = 'no PostgreSQL: set HWLAT_TEST_PG=postgres://… or install Debian\'s postgresql (see README, "Tests on PostgreSQL")';
      if (process.env.CI === '1' || process.env.CI === 'true') throw new Error(`CI=1 needs a PostgreSQL server for these tests: ${reason}`);
      return { skip: reason, serverUrl: '', createDatabase: () => Promise.reject(new Error(reason)) };
    }
    serverUrl = await startThrowaway();
  }
  const created: string[] = [];
  // a throwaway cluster goes with its databases; a given server keeps none of ours
  if (process.env.HWLAT_TEST_PG) process.once('exit', () => dropDatabases(serverUrl, created));
  return {
    skip: undefined,
    serverUrl,
    async createDatabase(): Promise<string> {
      // process id + counter: test files running at once (or a user's own databases) never collide
      const name = `hwlat_t${process.pid}_${created.length}_${Date.now().toString(36)}`;
      const admin = new pg.Client({ connectionString: serverUrl });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE ${name}`);
      } finally {
        await admin.end();
      }
      created.push(name);
      const url = new URL(serverUrl);
      url.pathname = `/${name}`;
      return url.toString();
    },
  };
}

async function startThrowaway(): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hwlat-pg-'));
  fs.rmSync(dir, { recursive: true }); // the script creates it (and hands it to the postgres user)
  const stop = (): void => {
    spawnSync(SCRIPT, ['stop', dir], { stdio: 'ignore' });
  };
  process.once('exit', stop);
  // a test run interrupted with Ctrl-C or killed by the runner must not leave a server behind
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      stop();
      process.exit(130);
    });
  }
  let lastError = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    // another process may take the port between freePort and the server's bind: try another one
    const port = await freePort();
    const res = spawnSync(SCRIPT, ['start', dir, String(port)], { encoding: 'utf8' });
    if (res.status === 0) return res.stdout.trim();
    lastError = `${res.stderr}`.trim();
    stop();
  }
  throw new Error(`could not start a throwaway PostgreSQL with ${SCRIPT}: ${lastError}`);
}

/** Drops this process's databases; synchronous, as 'exit' handlers must be (a child node does the async part). */
function dropDatabases(serverUrl: string, names: readonly string[]): void {
  if (names.length === 0) return;
  const code = `
    import pg from 'pg';
    const c = new pg.Client({ connectionString: process.argv[1] });
    await c.connect();
    for (const n of JSON.parse(process.argv[2])) await c.query('DROP DATABASE IF EXISTS ' + n + ' WITH (FORCE)').catch(() => {});
    await c.end();`;
  spawnSync(process.execPath, ['--input-type=module', '-e', code, serverUrl, JSON.stringify(names)], { cwd: ROOT, stdio: 'ignore', timeout: 15_000 });
}
