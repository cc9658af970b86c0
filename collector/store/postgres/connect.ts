import pg from 'pg';
import { StoreOpenError, StoreUnavailableError, StoreValidationError } from '../errors.ts';

/** Where a PostgreSQL store lives, parsed from its URL. */
export interface PostgresLocation {
  /** the URL without its password: how errors and logs name the database */
  label: string;
  /** `host:port`, for "no server answers at …" */
  address: string;
  database: string;
  config: pg.PoolConfig;
}

/** The oldest server the store runs on: float8 text is exact from 12 on (extra_float_digits). */
export const MIN_SERVER_VERSION = 12;

const DEFAULT_CONNECT_TIMEOUT_MS = 5000;
const DEFAULT_POOL_SIZE = 10;

/** A `postgres://` or `postgresql://` URL (what openStore sends here rather than to SQLite). */
export function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}

/**
 * pg turns int8 into strings and json into objects by default. Counts and epoch ms fit a double
 * exactly (< 2^53), so int8 becomes a number; json stays text, parsed by the row mappers, because
 * pg's parser would read a stored JSON `null` and SQL NULL alike (a spec sent as null and no spec).
 * A per-pool table: the process-wide pg.types stay as other code expects them.
 */
const TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === pg.types.builtins.INT8) return (v: string) => Number(v);
    if (oid === pg.types.builtins.JSON || oid === pg.types.builtins.JSONB) return (v: string) => v;
    return format === undefined ? pg.types.getTypeParser(oid) : pg.types.getTypeParser(oid, format);
  }) as pg.CustomTypesConfig['getTypeParser'],
};

/**
 * Parses a store URL: `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?connect_timeout=S&…]`.
 * Other query parameters (sslmode, application_name, options) go to the pg client as they are.
 * Throws StoreValidationError naming `argument` for a URL that names no host or database, or a bad
 * port or timeout.
 */
export function parsePostgresUrl(url: string, options: { argument?: string; poolSize?: number; connectTimeoutMs?: number } = {}): PostgresLocation {
  const argument = options.argument ?? 'location';
  const expected = 'expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE';
  if (!isPostgresUrl(url)) throw new StoreValidationError(argument, `'${url}' is not a postgres:// or postgresql:// URL; ${expected}`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new StoreValidationError(argument, `'${redact(url)}' is not a valid URL; ${expected}`);
  }
  const hostParam = parsed.searchParams.get('host');
  const host = decodeURIComponent(parsed.hostname).replace(/^\[(.+)\]$/, '$1') || hostParam || '';
  if (host === '') throw new StoreValidationError(argument, `'${redact(url)}' names no host; ${expected}`);
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (database === '' || database.includes('/')) {
    throw new StoreValidationError(argument, `'${redact(url)}' names no database (the path after the host, e.g. /hwlat); ${expected}`);
  }
  const port = parsed.port === '' ? 5432 : Number(parsed.port);
  let connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const timeoutParam = parsed.searchParams.get('connect_timeout');
  if (timeoutParam !== null) {
    const seconds = Number(timeoutParam);
    if (!Number.isFinite(seconds) || seconds <= 0) {
      throw new StoreValidationError(`${argument} connect_timeout`, `must be a positive number of seconds, got '${timeoutParam}'`);
    }
    connectTimeoutMs = Math.round(seconds * 1000);
  }
  const poolSize = options.poolSize ?? DEFAULT_POOL_SIZE;
  if (!Number.isInteger(poolSize) || poolSize < 1) throw new StoreValidationError('poolSize', `must be a positive integer, got ${poolSize}`);
  const label = redact(url);
  return {
    label,
    address: `${host.includes(':') ? `[${host}]` : host}:${port}`,
    database,
    config: {
      connectionString: url,
      connectionTimeoutMillis: connectTimeoutMs,
      max: poolSize,
      types: TYPES,
      application_name: 'hwlat',
      // an idle pool must not keep a CLI command (or a test) alive after its work is done
      allowExitOnIdle: true,
      idleTimeoutMillis: 10_000,
    },
  };
}

/** The URL with its password replaced by `***`, for messages. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    for (const key of ['password']) if (u.searchParams.has(key)) u.searchParams.set(key, '***');
    return u.toString();
  } catch {
    return url.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@');
  }
}

/** node and PostgreSQL codes that mean the server cannot be used now, not that the call was wrong. */
const UNAVAILABLE_ERRNO = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
/**
 * SQLSTATEs: 08 connection exception, 53 insufficient resources (disk full, too many
 * connections), 57P01-57P03 shutting down or starting up, 58 system errors (I/O), 40001/40P01
 * serialization failure and deadlock (the transaction was rolled back; the same call may succeed),
 * 55P03 lock not available, 25006 a read-only (standby) server.
 */
const UNAVAILABLE_SQLSTATE = /^(08|53|58)|^(57P01|57P02|57P03|40001|40P01|55P03|25006)$/;
const UNAVAILABLE_MESSAGE = /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|terminating connection/i;

/** The StoreUnavailableError a pg error stands for, or null when it is another error. */
export function asUnavailable(label: string, method: string, err: unknown): StoreUnavailableError | null {
  if (!(err instanceof Error)) return null;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (UNAVAILABLE_ERRNO.has(code) || UNAVAILABLE_SQLSTATE.test(code))) {
    return new StoreUnavailableError(label, method, code, err.message, { cause: err });
  }
  if (UNAVAILABLE_MESSAGE.test(err.message)) return new StoreUnavailableError(label, method, 'CONNECTION', err.message, { cause: err });
  return null;
}

/** Why a first connection failed, in words that say what to check. */
function connectFailure(loc: PostgresLocation, err: unknown): string {
  const e = err as { code?: string; message?: string };
  const msg = e.message ?? String(err);
  switch (e.code) {
    case 'ECONNREFUSED':
      return `no PostgreSQL server answers at ${loc.address} (connection refused); is it running, and on that port?`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the host of ${loc.address} cannot be resolved (${e.code})`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `${loc.address} cannot be reached (${e.code})`;
    case '28P01':
    case '28000':
      return `the server at ${loc.address} refused the login: ${msg}`;
    case '3D000':
      return `database '${loc.database}' does not exist on ${loc.address}; create it first (createdb ${loc.database})`;
    case '57P03':
      return `the server at ${loc.address} is starting up or shutting down; try again`;
  }
  if (/timeout/i.test(msg)) {
    return `no answer from ${loc.address} within ${loc.config.connectionTimeoutMillis} ms (connect timeout; add ?connect_timeout=SECONDS to wait longer)`;
  }
  return `cannot connect to ${loc.address}: ${msg}`;
}

/**
 * StoreOpenError unless the server is PostgreSQL MIN_SERVER_VERSION or newer.
 * @param versionNum `server_version_num`, e.g. 150018 for 15.18
 * @param versionText `server_version`, for the message
 */
export function checkServerVersion(loc: Pick<PostgresLocation, 'label' | 'address'>, versionNum: number, versionText: string): void {
  if (!(versionNum >= MIN_SERVER_VERSION * 10000)) {
    throw new StoreOpenError(loc.label, `the server at ${loc.address} runs PostgreSQL ${versionText}; hwlat needs PostgreSQL ${MIN_SERVER_VERSION} or newer`);
  }
}

/**
 * Opens a pool and checks, on one connection, that the server answers and is new enough. Throws
 * StoreOpenError naming the URL (without password) and host:port: unreachable, refused login,
 * missing database, or a server older than MIN_SERVER_VERSION. The pool is closed on any failure.
 */
export async function connectPool(loc: PostgresLocation): Promise<pg.Pool> {
  const pool = new pg.Pool(loc.config);
  // an idle client losing its connection (a server restart) must not crash the process: the next
  // query gets a fresh connection, or an error that the store turns into StoreUnavailableError
  pool.on('error', () => {});
  try {
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (err) {
      throw new StoreOpenError(loc.label, connectFailure(loc, err), { cause: err });
    }
    const ignore = (): void => {}; // a lost connection fails the query below
    client.on('error', ignore);
    try {
      const { rows } = await client.query<{ v: string; server_version: string }>(
        "SELECT current_setting('server_version_num') AS v, current_setting('server_version') AS server_version",
      );
      checkServerVersion(loc, Number(rows[0]?.v ?? 0), rows[0]?.server_version ?? 'unknown');
    } finally {
      client.off('error', ignore);
      client.release();
    }
    return pool;
  } catch (err) {
    await pool.end().catch(() => {});
    throw err;
  }
}
