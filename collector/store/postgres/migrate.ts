import type pg from 'pg';
import { MigrationError } from '../errors.ts';
import { checkMigrations, type AppliedMigration } from '../migrate.ts';
import type { Migration } from '../migrations.ts';

/**
 * Any number that every hwlat process agrees on: the advisory lock that serialises migrations
 * between collector replicas starting at once ('hwlat' in ASCII).
 */
const MIGRATION_LOCK = 0x68776c6174;

/** The migrations a database has applied, in version order ([] for a database hwlat never used). */
export async function appliedPgMigrations(db: pg.ClientBase): Promise<AppliedMigration[]> {
  const { rows } = await db.query<{ exists: boolean }>("SELECT to_regclass('schema_version') IS NOT NULL AS exists");
  if (!rows[0]?.exists) return [];
  const res = await db.query<AppliedMigration>('SELECT version, name, applied_at AS "appliedAt" FROM schema_version ORDER BY version');
  return res.rows;
}

/**
 * Brings a PostgreSQL database up to the last migration, in one transaction under an advisory
 * lock: two replicas starting together apply each migration once (the second waits, then finds
 * nothing to do), and a failing migration leaves the schema as it was (PostgreSQL's DDL is
 * transactional). Returns the versions applied now.
 *
 * A database whose schema_version holds a version this code does not know (written by newer
 * hwlat), or a known version under another name, is refused with MigrationError before anything
 * is written.
 */
export async function migratePg(pool: pg.Pool, migrations: readonly Migration[], label: string): Promise<number[]> {
  checkMigrations(migrations);
  const client = await pool.connect();
  // a connection lost mid-migration fails the migration's query; the event must not crash the process
  const ignore = (): void => {};
  client.on('error', ignore);
  try {
    await client.query('BEGIN');
    try {
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      const applied = await appliedPgMigrations(client);
      for (const row of applied) {
        const known = migrations[row.version - 1];
        if (known === undefined) {
          throw new MigrationError(
            label,
            `schema version ${row.version} ('${row.name}') is newer than this code, which knows up to ${migrations.length}; upgrade hwlat (nothing was changed)`,
          );
        }
        if (known.name !== row.name) {
          throw new MigrationError(
            label,
            `migration ${row.version} was applied as '${row.name}' but the code calls it '${known.name}'; the migration list was changed after release`,
          );
        }
      }
      if (applied.length === 0) {
        await client.query(`CREATE TABLE IF NOT EXISTS schema_version (
          version    INTEGER PRIMARY KEY,
          name       TEXT NOT NULL,
          applied_at TEXT NOT NULL
        )`);
      }
      const done = new Set(applied.map((a) => a.version));
      const now: number[] = [];
      for (const m of migrations) {
        if (done.has(m.version)) continue;
        try {
          await client.query(m.up);
        } catch (err) {
          throw new MigrationError(label, `migration ${m.version} '${m.name}' failed: ${(err as Error).message}`, { cause: err });
        }
        await client.query('INSERT INTO schema_version (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, new Date().toISOString()]);
        now.push(m.version);
      }
      await client.query('COMMIT');
      return now;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    }
  } finally {
    client.off('error', ignore);
    client.release();
  }
}
