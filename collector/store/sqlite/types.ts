import type { Migration } from '../migrations.ts';

/** Options of openStore. */
export interface OpenStoreOptions {
  /** database file; its directory must exist and be writable. ':memory:' for a throwaway store. */
  path: string;
  /** how long a write waits for another process's write lock before failing (default 5000 ms) */
  busyTimeoutMs?: number;
  /**
   * the schema migrations to bring the file up to (default: MIGRATIONS). Only tests and tools
   * that exercise the migration mechanism itself pass another list.
   */
  migrations?: readonly Migration[];
}
