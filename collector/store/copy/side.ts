import type { Row, TableCounts, TableName, TableSpec } from './tables.ts';

/**
 * One end of a copy, as the copy drives it. A database is read in one snapshot (what `counts`
 * says is what `rows` yields, whatever writes go on meanwhile) and written in one transaction
 * with the job ↔ measurement foreign keys deferred to the commit, so a failed copy writes nothing.
 */
export interface CopySide {
  readonly kind: 'sqlite' | 'postgres';
  /** how messages name the database (never with a password) */
  readonly label: string;
  /** each copied table's column names as the database has them (CopySchemaError checks them) */
  columns(): Promise<Map<TableName, string[]>>;
  /** rows per table, in the current transaction */
  counts(): Promise<TableCounts>;

  /** starts a read-only snapshot */
  beginRead(): Promise<void>;
  /** the table's rows in batches of at most `batch`, in its stable order (SQLite rowid, PostgreSQL key) */
  rows(table: TableSpec, batch: number): AsyncIterable<Row[]>;

  /** starts the write transaction (foreign keys of the job ↔ measurement cycle deferred) */
  beginWrite(): Promise<void>;
  /** deletes every copied table's rows (inside the write transaction) */
  clear(): Promise<void>;
  write(table: TableSpec, rows: readonly Row[]): Promise<void>;
  commit(): Promise<void>;
  /** ends whatever transaction is open, writing nothing */
  rollback(): Promise<void>;
  close(): Promise<void>;
}
