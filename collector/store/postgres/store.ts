import { CheckedStore } from '../checked.ts';
import type { AppliedMigration } from '../migrate.ts';
import type { PostgresBackend } from './backend.ts';

/**
 * The PostgreSQL Store: the checked Store over one PostgresBackend (one pg Pool). Create it with
 * openPostgresStore. Besides the Store interface it tells which migrations the database has
 * applied (asynchronous, unlike SQLite's: it asks the server).
 */
export class PostgresStore extends CheckedStore<PostgresBackend> {
  /** @param migrationsApplied versions applied by the open that made this store */
  constructor(
    backend: PostgresBackend,
    readonly migrationsApplied: readonly number[] = [],
  ) {
    super(backend);
  }

  /** The highest migration version the database has applied. */
  async schemaVersion(): Promise<number> {
    const applied = await this.appliedMigrations();
    return applied.length === 0 ? 0 : applied[applied.length - 1]!.version;
  }

  /** Every migration the database has applied, with when. */
  appliedMigrations(): Promise<AppliedMigration[]> {
    return this.live('appliedMigrations').appliedMigrations();
  }
}
