import type { Migration } from '../migrations.ts';
import { PostgresBackend } from './backend.ts';
import { connectPool, parsePostgresUrl } from './connect.ts';
import { migratePg } from './migrate.ts';
import { PG_MIGRATIONS } from './migrations.ts';
import { PostgresStore } from './store.ts';

/** Options of openPostgresStore. */
export interface OpenPostgresOptions {
  /** `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`; the database must exist */
  url: string;
  /** connections in the pool (default 10); each collector replica holds its own pool */
  poolSize?: number;
  /** how long to wait for the server to answer a new connection (default 5000 ms; the URL's connect_timeout wins) */
  connectTimeoutMs?: number;
  /** the schema migrations (default PG_MIGRATIONS); only tests of the mechanism pass another list */
  migrations?: readonly Migration[];
}

/**
 * Connects to a PostgreSQL database, checks the server (PostgreSQL 12 or newer) and brings the
 * schema up to date. Collector replicas call it on the same database at once safely (the
 * migrations run under an advisory lock).
 *
 * Throws StoreValidationError for a URL that names no host or database; StoreOpenError naming the
 * URL (never its password) and host:port when the server cannot be reached in time, refuses the
 * login, lacks the database or is too old; MigrationError when the schema was written by newer
 * hwlat (nothing is changed then).
 *
 * @example
 * import { openPostgresStore } from './collector/store/postgres/index.ts';
 * const store = await openPostgresStore({ url: 'postgres://hwlat@127.0.0.1:5432/hwlat' });
 * console.log((await store.listDevices()).length);
 * await store.close();
 */
export async function openPostgresStore(options: OpenPostgresOptions): Promise<PostgresStore> {
  const loc = parsePostgresUrl(options.url, {
    argument: 'url',
    ...(options.poolSize !== undefined ? { poolSize: options.poolSize } : {}),
    ...(options.connectTimeoutMs !== undefined ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
  });
  const pool = await connectPool(loc);
  try {
    const applied = await migratePg(pool, options.migrations ?? PG_MIGRATIONS, loc.label);
    return new PostgresStore(new PostgresBackend(pool, loc.label, applied), applied);
  } catch (err) {
    await pool.end().catch(() => {});
    throw err;
  }
}
