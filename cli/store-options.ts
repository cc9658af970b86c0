import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Option } from 'commander';
import { announcingStore, openStoreAt, PgNotifier, storeKind, type PostgresStore, type SqliteStore, type Store } from '../collector/index.ts';
import { UnknownKeyError } from '../ops-library/index.ts';

/** The database every command uses unless given `--db`: the file `hwlat demo` writes. */
export const DEFAULT_DB = 'hwlat.sqlite';

/**
 * `--db <file|url>`, defaulting to DEFAULT_DB: a SQLite file or a postgres:// URL (openDb).
 * `creates`: the command creates the file when it is missing (profile, lut import, serve);
 * otherwise it must exist (see existingDb).
 */
export function dbOption(o: { creates: boolean; about?: string }): Option {
  const about = o.about ?? 'SQLite database file, or postgres://USER@HOST:PORT/DATABASE';
  return new Option('--db <file|url>', o.creates ? `${about} (a file is created if missing)` : about).default(DEFAULT_DB);
}

/**
 * Opens the store `--db` names (collector/store/open.ts): a postgres:// URL is the PostgreSQL
 * store, anything else a SQLite file, which must exist when `mustExist` (commands that only read).
 * A PostgreSQL store announces its writes to the collector replicas on that database (NOTIFY), so
 * a `hwlat profile --db postgres://…` next to running replicas is seen by their predictors as an
 * agent's results are; a SQLite file has no replicas to tell.
 */
export async function openDb(db: string, o: { mustExist: boolean }): Promise<SqliteStore | PostgresStore> {
  if (storeKind(db) === 'sqlite') {
    if (o.mustExist) existingDb(db);
    return openStoreAt(db, { argument: '--db' });
  }
  return announcingStore(await openStoreAt(db, { argument: '--db' }), new PgNotifier({ url: db }));
}

/**
 * The database a command reads, which must exist: opening a missing path would create an empty
 * file and answer "no such device" instead of "no such file".
 */
export function existingDb(path: string): string {
  if (!existsSync(path)) {
    const hint =
      path === DEFAULT_DB
        ? `'--db' defaults to ${DEFAULT_DB} in the current folder, which 'hwlat demo' and 'hwlat profile' write; run one of them here or pass '--db <file>'`
        : `create it with 'hwlat profile --db ${path}' or 'hwlat lut import --db ${path}'`;
    throw new Error(`database '${path}' does not exist (looked for ${resolve(path)}): ${hint}`);
  }
  return path;
}

/**
 * The device a command works on: the one `--device` names (it must be in the database), else the
 * database's only device. With none or several and no `--device`, the error lists what is there.
 */
export async function chooseDevice(store: Pick<Store, 'listDevices'>, o: { db: string; device?: string }): Promise<string> {
  const devices = await store.listDevices();
  if (o.device !== undefined) {
    if (!devices.some((d) => d.id === o.device)) throw new UnknownKeyError('device', o.device, devices.map((d) => d.id));
    return o.device;
  }
  const only = devices.length === 1 ? devices[0] : undefined;
  if (only) return only.id;
  if (devices.length === 0) throw new RangeError(`'${o.db}' holds no devices: measure one with 'hwlat profile --db ${o.db}' or import a LUT with 'hwlat lut import --db ${o.db}'`);
  const listed = devices.map((d) => `  ${d.id}  ${d.name} (${d.runtime.backend}${d.runtime.provider ? `:${d.runtime.provider}` : ''}, ${d.measurements} measurements)`);
  throw new RangeError(`'--device <id>' is required: '${o.db}' holds ${devices.length} devices:\n${listed.join('\n')}`);
}
