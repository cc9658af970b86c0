import type { Database } from 'better-sqlite3';
import { MigrationError } from './errors.ts';
import type { Migration } from './migrations.ts';

/** A migration as recorded in the database. */
export interface AppliedMigration {
  version: number;
  name: string;
  /** ISO timestamp of when this database applied it */
  appliedAt: string;
}

/**
 * Checks that a migration list is usable: versions 1, 2, 3, … in order, names non-empty, SQL
 * non-empty. A gap or a duplicate would make "apply what is missing" ambiguous.
 *
 * @example
 * import { checkMigrations } from './collector/store/migrate.ts';
 * checkMigrations([{ version: 1, name: 'init', up: 'CREATE TABLE t (x INTEGER)' }]); // ok
 */
export function checkMigrations(migrations: readonly Migration[]): void {
  if (!Array.isArray(migrations)) throw new TypeError('migrations must be an array of { version, name, up }');
  migrations.forEach((m, i) => {
    if (m === null || typeof m !== 'object') throw new TypeError(`migrations[${i}] must be an object { version, name, up }`);
    if (m.version !== i + 1) {
      throw new TypeError(`migrations[${i}].version must be ${i + 1} (versions are 1, 2, 3, … in order), got ${String(m.version)}`);
    }
    if (typeof m.name !== 'string' || m.name.trim() === '') throw new TypeError(`migrations[${i}].name must be a non-empty string`);
    if (typeof m.up !== 'string' || m.up.trim() === '') throw new TypeError(`migrations[${i}].up must be non-empty SQL`);
  });
}

const CREATE_TRACKING = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version    INTEGER PRIMARY KEY,
  name       TEXT NOT NULL,
  applied_at TEXT NOT NULL
) STRICT`;

/** The migrations a database has applied, in version order. */
export function appliedMigrations(db: Database): AppliedMigration[] {
  return db
    .prepare('SELECT version, name, applied_at AS appliedAt FROM schema_migrations ORDER BY version')
    .all() as AppliedMigration[];
}

/**
 * Refuses (MigrationError) a database that has a version this code does not know (it was written
 * by newer code) or whose recorded name differs from the code's (the list was renumbered). Only
 * reads: openStore calls it before anything is written, so a refused file is left as it was.
 */
export function checkSchema(db: Database, migrations: readonly Migration[], path: string): void {
  checkMigrations(migrations);
  const tracked = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get();
  if (tracked === undefined) return; // a new file, or one no hwlat has opened
  for (const row of appliedMigrations(db)) {
    const known = migrations[row.version - 1];
    if (known === undefined) {
      throw new MigrationError(
        path,
        `schema version ${row.version} ('${row.name}') is newer than this code, which knows up to ${migrations.length}; upgrade hwlat`,
      );
    }
    if (known.name !== row.name) {
      throw new MigrationError(
        path,
        `migration ${row.version} was applied as '${row.name}' but the code calls it '${known.name}'; the migration list was changed after release`,
      );
    }
  }
}

/**
 * Brings the database up to the last migration, applying only those it has not applied yet, each
 * in its own transaction together with its row in schema_migrations, so a failing migration leaves
 * the schema exactly as the previous version left it. Returns the versions applied now.
 *
 * Refuses (MigrationError, see checkSchema) a database written by newer code.
 *
 * @example
 * import Database from 'better-sqlite3';
 * import { migrate } from './collector/store/migrate.ts';
 * const db = new Database(':memory:');
 * migrate(db, [{ version: 1, name: 'init', up: 'CREATE TABLE t (x INTEGER)' }], ':memory:'); // [1]
 * migrate(db, [{ version: 1, name: 'init', up: 'CREATE TABLE t (x INTEGER)' }], ':memory:'); // []
 */
export function migrate(db: Database, migrations: readonly Migration[], path: string): number[] {
  checkMigrations(migrations);
  db.exec(CREATE_TRACKING);
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  const isApplied = db.prepare('SELECT 1 FROM schema_migrations WHERE version = ?').pluck();

  checkSchema(db, migrations, path);

  const applied: number[] = [];
  for (const m of migrations) {
    // IMMEDIATE takes the write lock before re-checking, so two processes opening the same file
    // at once cannot both apply a migration; the second sees it applied and skips it.
    const step = db.transaction(() => {
      if (isApplied.get(m.version) !== undefined) return false;
      db.exec(m.up);
      record.run(m.version, m.name, new Date().toISOString());
      return true;
    });
    try {
      if (step.immediate()) applied.push(m.version);
    } catch (err) {
      throw new MigrationError(path, `migration ${m.version} '${m.name}' failed: ${(err as Error).message}`, { cause: err });
    }
  }
  return applied;
}
