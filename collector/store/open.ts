import { StoreValidationError } from './errors.ts';
import { isPostgresUrl, openPostgresStore, parsePostgresUrl, redact, type PostgresStore } from './postgres/index.ts';
import { openStore, type SqliteStore } from './sqlite/index.ts';

/** Options of openStoreAt; each applies to one kind of database and is ignored by the other. */
export interface OpenStoreAtOptions {
  /** PostgreSQL: connections in the pool (default 10) */
  poolSize?: number;
  /** PostgreSQL: how long a new connection may take (default 5000 ms) */
  connectTimeoutMs?: number;
  /** SQLite: how long a write waits for another process's lock (default 5000 ms) */
  busyTimeoutMs?: number;
  /** how errors name the location (default 'location'; the CLI says '--db') */
  argument?: string;
}

/** `scheme://…`: a URL rather than a file path */
const URL_LIKE = /^([a-z][a-z0-9+.-]*):\/\//i;

/** What a location names: a PostgreSQL URL or a SQLite file (no I/O). */
export function storeKind(location: string): 'postgres' | 'sqlite' {
  return isPostgresUrl(location) ? 'postgres' : 'sqlite';
}

/**
 * Opens the store a `--db` value names: a `postgres://` or `postgresql://` URL opens the
 * PostgreSQL store (collector replicas share one database), anything else is a SQLite file path
 * (created if missing, as openStore does). Another `scheme://` is refused rather than taken for a
 * file name, so a misspelt `postgress://…` does not quietly create a file of that name.
 *
 * Throws StoreValidationError naming `location` for an empty value, an unknown scheme or a
 * PostgreSQL URL without host or database; then what openPostgresStore or openStore throw
 * (StoreOpenError: unreachable server, refused login, missing database or directory, server older
 * than PostgreSQL 12; MigrationError: a schema newer than this code, nothing changed).
 *
 * @example
 * import { openStoreAt } from './collector/store/open.ts';
 * const store = await openStoreAt(process.env.HWLAT_DB ?? 'hwlat.sqlite');
 * console.log((await store.listDevices()).length);
 * await store.close();
 */
export async function openStoreAt(location: string, options: OpenStoreAtOptions = {}): Promise<SqliteStore | PostgresStore> {
  const argument = options.argument ?? 'location';
  if (typeof location !== 'string' || location.trim() === '') {
    throw new StoreValidationError(argument, 'must be a SQLite file path or a postgres://USER@HOST:PORT/DATABASE URL');
  }
  if (isPostgresUrl(location)) {
    parsePostgresUrl(location, { argument }); // a malformed URL is named as the caller knows it
    return openPostgresStore({
      url: location,
      ...(options.poolSize !== undefined ? { poolSize: options.poolSize } : {}),
      ...(options.connectTimeoutMs !== undefined ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
    });
  }
  const scheme = URL_LIKE.exec(location)?.[1];
  if (scheme !== undefined) {
    throw new StoreValidationError(
      argument,
      `'${redact(location)}' is a ${scheme}:// URL; a database is a SQLite file path or a postgres:// (postgresql://) URL`,
    );
  }
  return openStore({ path: location, ...(options.busyTimeoutMs !== undefined ? { busyTimeoutMs: options.busyTimeoutMs } : {}) });
}
