import { CheckedStore } from '../checked.ts';
import type { SqliteBackend } from './backend.ts';
import type { AppliedMigration } from '../migrate.ts';

/**
 * The SQLite Store: the checked Store over one SqliteBackend (one better-sqlite3 connection).
 * Create it with openStore. Besides the Store interface it exposes SQLite-specific facts (path,
 * journal mode, applied migrations) for diagnostics and tests; these are synchronous.
 */
export class SqliteStore extends CheckedStore<SqliteBackend> {
  /** @param migrationsApplied versions applied by the openStore call that made this store */
  constructor(
    backend: SqliteBackend,
    readonly migrationsApplied: readonly number[] = [],
  ) {
    super(backend);
  }

  /** the database file (':memory:' for a throwaway store) */
  get path(): string {
    return this.label;
  }

  /** 'wal' for a file database ('memory' for ':memory:'). */
  journalMode(): string {
    return this.live('journalMode').journalMode();
  }

  /** The highest migration version the database has applied. */
  schemaVersion(): number {
    const applied = this.appliedMigrations();
    return applied.length === 0 ? 0 : applied[applied.length - 1]!.version;
  }

  /** Every migration the database has applied, with when. */
  appliedMigrations(): AppliedMigration[] {
    return this.live('appliedMigrations').appliedMigrations();
  }
}
