import fs from 'node:fs';
import nodePath from 'node:path';
import { StoreValidationError } from '../errors.ts';
import { storeKind } from '../open.ts';
import { parsePostgresUrl, redact } from '../postgres/connect.ts';
import { CopyTargetNotEmptyError, CopyVerifyError } from './errors.ts';
import { openPgSide } from './pg-side.ts';
import type { CopySide } from './side.ts';
import { openSqliteSide } from './sqlite-side.ts';
import { TABLES, TABLE_NAMES, checkColumns, type TableCounts, type TableName } from './tables.ts';

/** Options of copyDatabase. */
export interface CopyOptions {
  /** a SQLite file path or a postgres:// URL; it must exist */
  from: string;
  /** a SQLite file path (created if missing) or a postgres:// URL (the database must exist) */
  to: string;
  /** replace what the target holds (in the same transaction: a failed copy keeps it). Default: refuse a non-empty target. */
  force?: boolean;
  /** rows per read and per insert (default 2000) */
  batchSize?: number;
  /** called after every batch */
  onProgress?: (p: CopyProgress) => void;
}

/** Where a copy is, for a progress bar. */
export interface CopyProgress {
  table: TableName;
  /** rows of this table copied so far, of `tableTotal` */
  tableDone: number;
  tableTotal: number;
  /** rows of every table copied so far, of `total` */
  done: number;
  total: number;
}

/** What copyDatabase did; the CLI prints it (as JSON with --json). */
export interface CopySummary {
  /** source and target as named in messages (passwords masked) */
  from: string;
  to: string;
  fromKind: 'sqlite' | 'postgres';
  toKind: 'sqlite' | 'postgres';
  /** rows copied per table (the target holds exactly these now) */
  tables: TableCounts;
  rows: number;
  /** with force: what the target held before, now replaced; null when it was empty */
  replaced: TableCounts | null;
  ms: number;
}

function emptyCounts(): TableCounts {
  return Object.fromEntries(TABLE_NAMES.map((t) => [t, 0])) as TableCounts;
}

/** A name for "the same database", so a copy onto itself is refused before it deletes anything. */
function identity(location: string, argument: 'from' | 'to'): string {
  if (storeKind(location) === 'postgres') {
    const loc = parsePostgresUrl(location, { argument });
    return `postgres:${loc.address}/${loc.database}`;
  }
  const abs = nodePath.resolve(location);
  try {
    return `sqlite:${fs.realpathSync(abs)}`;
  } catch {
    return `sqlite:${abs}`;
  }
}

async function openSide(location: string, role: 'source' | 'target'): Promise<CopySide> {
  return storeKind(location) === 'postgres' ? openPgSide(location) : openSqliteSide(location, role);
}

/**
 * Copies a whole hwlat database — devices, passes, measurements, campaigns with their tasks and
 * jobs (lease state, attempts, failures included), kernel profiles with their timed kernels — from
 * one store to another, SQLite or PostgreSQL either way, without loss: every column as stored,
 * measurements in their original order. The source is read in one snapshot (collectors may keep
 * writing to it); the target is written in one transaction, checked row count by row count before
 * the commit, so a copy that fails leaves the target as it was.
 *
 * A target that holds anything is refused (CopyTargetNotEmptyError) unless `force`, which
 * replaces its contents. Both databases are first brought to the current schema; a database
 * written by newer hwlat is refused (MigrationError), and one whose tables differ from what this
 * version copies too (CopySchemaError), before anything is written.
 *
 * @example
 * import { copyDatabase } from './collector/store/copy/index.ts';
 * const s = await copyDatabase({ from: 'lat.sqlite', to: 'postgres://hwlat@127.0.0.1:5432/hwlat' });
 * console.log(`${s.rows} rows`, s.tables.measurements, 'measurements');
 */
export async function copyDatabase(o: CopyOptions): Promise<CopySummary> {
  const started = performance.now();
  if (typeof o.from !== 'string' || o.from === '') throw new StoreValidationError('from', 'must be a SQLite file path or a postgres:// URL');
  if (typeof o.to !== 'string' || o.to === '') throw new StoreValidationError('to', 'must be a SQLite file path or a postgres:// URL');
  const batch = o.batchSize ?? 2000;
  if (!Number.isInteger(batch) || batch < 1) throw new StoreValidationError('batchSize', `must be a positive integer, got ${batch}`);
  if (identity(o.from, 'from') === identity(o.to, 'to')) {
    throw new StoreValidationError('to', `'${redact(o.to)}' is the source database itself; copy to another file or database`);
  }

  const source = await openSide(o.from, 'source');
  let target: CopySide | undefined;
  try {
    target = await openSide(o.to, 'target');
    checkColumns(source.label, source.kind, await source.columns());
    checkColumns(target.label, target.kind, await target.columns());

    await source.beginRead();
    const counts = await source.counts();
    const total = TABLE_NAMES.reduce((n, t) => n + counts[t], 0);

    await target.beginWrite();
    const before = await target.counts();
    const held = TABLE_NAMES.some((t) => before[t] > 0);
    if (held && !o.force) throw new CopyTargetNotEmptyError(target.label, before);
    if (held) await target.clear();

    let done = 0;
    for (const spec of TABLES) {
      let tableDone = 0;
      o.onProgress?.({ table: spec.name, tableDone, tableTotal: counts[spec.name], done, total });
      for await (const rows of source.rows(spec, batch)) {
        await target.write(spec, rows);
        tableDone += rows.length;
        done += rows.length;
        o.onProgress?.({ table: spec.name, tableDone, tableTotal: counts[spec.name], done, total });
      }
    }
    const after = await target.counts();
    if (TABLE_NAMES.some((t) => after[t] !== counts[t])) throw new CopyVerifyError(target.label, counts, after);
    await target.commit();
    await source.rollback();
    return {
      from: source.label,
      to: target.label,
      fromKind: source.kind,
      toKind: target.kind,
      tables: { ...emptyCounts(), ...counts },
      rows: total,
      replaced: held ? before : null,
      ms: Math.round(performance.now() - started),
    };
  } finally {
    await target?.close().catch(() => {});
    await source.close().catch(() => {});
  }
}
