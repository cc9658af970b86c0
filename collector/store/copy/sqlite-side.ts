import fs from 'node:fs';
import Database from 'better-sqlite3';
import type { Database as SqliteDb } from 'better-sqlite3';
import { StoreOpenError } from '../errors.ts';
import { openStore } from '../sqlite/index.ts';
import type { CopySide } from './side.ts';
import { TABLES, TABLE_NAMES, type Row, type TableCounts, type TableName, type TableSpec } from './tables.ts';

/**
 * A SQLite file as one end of a copy. It is opened through openStore first, so it is migrated to
 * the current schema (a target is created), then used with a connection of its own for whole-table
 * reads and writes. A source must exist: copying from a path that names nothing is a typo, not an
 * empty database.
 */
export async function openSqliteSide(path: string, role: 'source' | 'target'): Promise<CopySide> {
  if (role === 'source' && !fs.existsSync(path)) throw new StoreOpenError(path, 'the file does not exist');
  // migrates (and for a target creates) the file; refuses one written by newer code
  await openStore({ path }).close();
  const db = new Database(path, { fileMustExist: true, timeout: 5000 });
  db.pragma('foreign_keys = ON');
  return new SqliteSide(db, path);
}

const toSqlite = (spec: TableSpec) => {
  const bools = spec.columns.filter(([, k]) => k === 'bool').map(([c]) => c);
  return (row: Row): unknown[] => spec.columns.map(([c]) => (bools.includes(c) ? (row[c] === null ? null : row[c] ? 1 : 0) : row[c]));
};

class SqliteSide implements CopySide {
  readonly kind = 'sqlite' as const;

  constructor(
    readonly db: SqliteDb,
    readonly label: string,
  ) {}

  async columns(): Promise<Map<TableName, string[]>> {
    const out = new Map<TableName, string[]>();
    for (const name of TABLE_NAMES) {
      out.set(name, (this.db.prepare(`PRAGMA table_info(${name})`).all() as { name: string }[]).map((c) => c.name));
    }
    return out;
  }

  async counts(): Promise<TableCounts> {
    const out = {} as TableCounts;
    for (const name of TABLE_NAMES) out[name] = (this.db.prepare(`SELECT COUNT(*) AS n FROM ${name}`).get() as { n: number }).n;
    return out;
  }

  async beginRead(): Promise<void> {
    // a deferred transaction's snapshot starts at its first read: counts() right after takes it
    this.db.exec('BEGIN');
  }

  async *rows(spec: TableSpec, batch: number): AsyncIterable<Row[]> {
    const cols = spec.columns.map(([c]) => c);
    const bools = spec.columns.filter(([, k]) => k === 'bool').map(([c]) => c);
    const stmt = this.db.prepare(`SELECT rowid AS "__rowid", ${cols.join(', ')} FROM ${spec.name} WHERE rowid > ? ORDER BY rowid LIMIT ?`);
    let last = Number.MIN_SAFE_INTEGER;
    for (;;) {
      const rows = stmt.all(last, batch) as (Row & { __rowid: number })[];
      if (rows.length === 0) return;
      last = rows[rows.length - 1]!.__rowid;
      yield rows.map(({ __rowid: _, ...row }) => {
        for (const b of bools) if (row[b] !== null) row[b] = row[b] === 1;
        return row;
      });
      if (rows.length < batch) return;
    }
  }

  async beginWrite(): Promise<void> {
    this.db.exec('BEGIN IMMEDIATE');
    // the job ↔ measurement cycle: checked at COMMIT instead of per row (reset by the commit)
    this.db.pragma('defer_foreign_keys = ON');
  }

  async clear(): Promise<void> {
    for (const spec of [...TABLES].reverse()) this.db.exec(`DELETE FROM ${spec.name}`);
  }

  readonly #inserts = new Map<TableName, { run: (values: unknown[]) => unknown; values: (row: Row) => unknown[] }>();

  async write(spec: TableSpec, rows: readonly Row[]): Promise<void> {
    let insert = this.#inserts.get(spec.name);
    if (insert === undefined) {
      const cols = spec.columns.map(([c]) => c);
      const stmt = this.db.prepare(`INSERT INTO ${spec.name} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`);
      this.#inserts.set(spec.name, (insert = { run: (v) => stmt.run(v), values: toSqlite(spec) }));
    }
    for (const row of rows) insert.run(insert.values(row));
  }

  async commit(): Promise<void> {
    this.db.exec('COMMIT');
  }

  async rollback(): Promise<void> {
    if (this.db.inTransaction) this.db.exec('ROLLBACK');
  }

  async close(): Promise<void> {
    if (this.db.open) {
      await this.rollback();
      this.db.close();
    }
  }
}
