// The database a collector benchmark runs against (scripts/bench/ingest.ts, predict-http.ts), and
// the CPU its processes use. `--db sqlite`: a temp SQLite file; `--db postgres`: a throwaway
// PostgreSQL cluster (scripts/pg-throwaway.sh), stopped and removed when the process exits;
// `--db postgres://…`: that database, as it is.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const PG_THROWAWAY = fileURLToPath(new URL('../pg-throwaway.sh', import.meta.url));

export interface BenchDatabase {
  /** what `hwlat … --db` takes: a file path or a postgres:// URL */
  db: string;
  /** what it is, for the report */
  kind: string;
  /** the throwaway cluster's postmaster (its CPU can be measured); absent otherwise */
  postmaster?: number;
}

/** Checks a `--db` value: 'sqlite', 'postgres' or a postgres:// URL. */
export function checkDbArgument(db: string): void {
  if (db !== 'sqlite' && db !== 'postgres' && !/^postgres(ql)?:\/\//i.test(db)) {
    throw new RangeError(`--db must be 'sqlite', 'postgres' (a throwaway cluster) or a postgres:// URL, got '${db}'`);
  }
}

/**
 * Opens the benchmark's database. `dir` holds a SQLite file; a throwaway cluster gets its own
 * directory (under root its server runs as 'postgres', which cannot enter root's 0700 temp
 * directories) and is stopped when the process exits. `durable`: the cluster runs with a
 * production server's durability (fsync, synchronous commit, full-page writes); otherwise with the
 * tests' settings (none of them).
 */
export async function benchDatabase(o: { db: string; dir: string; durable: boolean; sqliteName?: string }): Promise<BenchDatabase> {
  checkDbArgument(o.db);
  if (o.db === 'sqlite') return { db: join(o.dir, o.sqliteName ?? 'bench.sqlite'), kind: 'SQLite (temp file)' };
  if (o.db !== 'postgres') return { db: o.db, kind: `PostgreSQL (${new URL(o.db).host})` };
  const cluster = mkdtempSync(join(tmpdir(), 'hwlat-bench-pg-'));
  rmSync(cluster, { recursive: true }); // the script creates it and hands it to the server's user
  const env = { ...process.env, PG_THROWAWAY_OPTIONS: o.durable ? '-c fsync=on -c synchronous_commit=on -c full_page_writes=on' : '' };
  const res = spawnSync(PG_THROWAWAY, ['start', cluster], { encoding: 'utf8', env });
  if (res.status !== 0) throw new Error(`could not start a throwaway PostgreSQL (${PG_THROWAWAY}): ${res.stderr.trim()}`);
  process.once('exit', () => void spawnSync(PG_THROWAWAY, ['stop', cluster], { stdio: 'ignore' }));
  const server = res.stdout.trim();
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  const { rows } = await admin.query<{ version: string }>("SELECT current_setting('server_version') AS version");
  await admin.query('CREATE DATABASE hwlat');
  await admin.end();
  const url = new URL(server);
  url.pathname = '/hwlat';
  const postmaster = Number(readFileSync(join(cluster, 'data/postmaster.pid'), 'utf8').split('\n')[0]);
  const settings = o.durable ? 'fsync and synchronous commit on' : 'fsync and synchronous commit off';
  return { db: url.toString(), kind: `PostgreSQL ${rows[0]?.version.split(' ')[0]} (throwaway cluster, ${settings})`, postmaster };
}

/**
 * CPU time (user + system, ms) a process used (Linux /proc; 0 elsewhere); with `reaped`, its
 * children that exited and were waited for too (PostgreSQL's backends, once their connection ends).
 */
export function cpuMs(pid: number | undefined, reaped = false): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
    // stat fields 14-17 (utime stime cutime cstime), in USER_HZ (100 on Linux)
    return ((f[11]! + f[12]! + (reaped ? f[13]! + f[14]! : 0)) * 1000) / 100;
  } catch {
    return 0;
  }
}

/** CPU ms of a PostgreSQL cluster: the postmaster, its live backends, and the ones that ended. */
export function postgresCpuMs(postmaster: number): number {
  let ms = cpuMs(postmaster, true);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === postmaster) ms += cpuMs(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return ms;
}
