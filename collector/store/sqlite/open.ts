import fs from 'node:fs';
import nodePath from 'node:path';
import Database from 'better-sqlite3';
import type { Database as SqliteDb } from 'better-sqlite3';
import { z } from 'zod';
import { MigrationError, StoreOpenError } from '../errors.ts';
import { validate } from '../validate.ts';
import { SqliteBackend } from './backend.ts';
import { checkSchema, migrate } from '../migrate.ts';
import { MIGRATIONS } from '../migrations.ts';
import { SqliteStore } from './store.ts';
import type { OpenStoreOptions } from './types.ts';

const MEMORY = ':memory:';
const DEFAULT_BUSY_TIMEOUT_MS = 5000;

const OpenStoreOptionsSchema = z.strictObject({
  path: z.string().min(1, 'must be a non-empty string'),
  busyTimeoutMs: z.number().int().min(0).optional(),
  migrations: z.array(z.any()).optional(),
});

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Checks the file's location before better-sqlite3 sees it: better-sqlite3 would create the file
 * (and WAL its -wal/-shm siblings) and its own errors ("unable to open database file") do not say
 * which part of the path is wrong.
 */
function checkLocation(file: string): void {
  const abs = nodePath.resolve(file);
  const dir = nodePath.dirname(abs);
  let dirStat: fs.Stats;
  try {
    dirStat = fs.statSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new StoreOpenError(file, `directory '${dir}' does not exist`, { cause: err });
    if (code === 'ENOTDIR') throw new StoreOpenError(file, `'${dir}' is not a directory (a part of the path is a file)`, { cause: err });
    throw new StoreOpenError(file, `directory '${dir}' is not accessible (${code ?? reasonOf(err)})`, { cause: err });
  }
  if (!dirStat.isDirectory()) throw new StoreOpenError(file, `'${dir}' is not a directory`);
  try {
    // WAL mode creates -wal and -shm files beside the database, so the directory must be writable
    // even when the database file itself already exists.
    fs.accessSync(dir, fs.constants.W_OK | fs.constants.X_OK);
  } catch (err) {
    throw new StoreOpenError(file, `directory '${dir}' is not writable`, { cause: err });
  }
  let fileStat: fs.Stats | undefined;
  try {
    fileStat = fs.statSync(abs);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new StoreOpenError(file, `cannot stat the file (${reasonOf(err)})`, { cause: err });
    }
  }
  if (fileStat !== undefined) {
    if (fileStat.isDirectory()) throw new StoreOpenError(file, 'it is a directory, not a file');
    try {
      fs.accessSync(abs, fs.constants.R_OK | fs.constants.W_OK);
    } catch (err) {
      throw new StoreOpenError(file, 'file is not readable and writable', { cause: err });
    }
  }
}

/** Sets the per-connection pragmas and checks that they took. */
function configure(db: SqliteDb, file: string, busyTimeoutMs: number): void {
  db.pragma(`busy_timeout = ${busyTimeoutMs}`);
  // WAL: readers (the HTTP API, LUT building) never block the one writer (results coming in).
  const mode = String(db.pragma('journal_mode = WAL', { simple: true }));
  if (file !== MEMORY && mode !== 'wal') {
    throw new StoreOpenError(file, `could not switch to WAL journal mode (got '${mode}'); network file systems do not support it`);
  }
  // NORMAL is safe from corruption in WAL mode and only risks the last commits on power loss (not
  // on a process crash), at a fraction of FULL's fsyncs per result batch.
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  if (db.pragma('foreign_keys', { simple: true }) !== 1) {
    throw new StoreOpenError(file, 'this SQLite build cannot enforce foreign keys');
  }
}

/**
 * Opens (creating if needed) the SQLite database at `path`, switches it to WAL mode and applies
 * the schema migrations it has not applied yet.
 *
 * Throws StoreOpenError naming the path and the reason when the directory is missing or not
 * writable or the file is not a database, and MigrationError when the schema cannot be brought up
 * to date (e.g. the file was written by newer code: refused before anything is written).
 *
 * @example
 * import { openStore } from './collector/index.ts';
 * const store = openStore({ path: '/tmp/hwlat-example.sqlite' });
 * console.log(store.journalMode()); // 'wal'
 * console.log((await store.listDevices()).length);
 * await store.close();
 */
export function openStore(options: OpenStoreOptions): SqliteStore {
  const opts = validate(OpenStoreOptionsSchema, options, 'openStore options');
  const file = opts.path;
  const busyTimeoutMs = opts.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  if (file !== MEMORY) checkLocation(file);

  let db: SqliteDb;
  try {
    db = new Database(file, { timeout: busyTimeoutMs });
  } catch (err) {
    throw new StoreOpenError(file, reasonOf(err), { cause: err });
  }
  const migrations = options.migrations ?? MIGRATIONS;
  try {
    try {
      db.pragma(`busy_timeout = ${busyTimeoutMs}`);
      // before anything is written: a file of newer code is refused as it is (MigrationError)
      checkSchema(db, migrations, file);
      configure(db, file, busyTimeoutMs);
    } catch (err) {
      // 'file is not a database' surfaces here, at the first statement, not in the constructor
      if (err instanceof StoreOpenError || err instanceof MigrationError) throw err;
      throw new StoreOpenError(file, reasonOf(err), { cause: err });
    }
    const applied = migrate(db, migrations, file);
    return new SqliteStore(new SqliteBackend(db, file), applied);
  } catch (err) {
    db.close();
    throw err;
  }
}

