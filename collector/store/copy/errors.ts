import type { TableCounts } from './tables.ts';

/** `3 devices, 120 measurements` (tables with rows only) */
export function describeCounts(counts: Partial<TableCounts>): string {
  const parts = Object.entries(counts)
    .filter(([, n]) => (n ?? 0) > 0)
    .map(([table, n]) => `${n} ${table.replace(/_/g, ' ')}`);
  return parts.length > 0 ? parts.join(', ') : 'nothing';
}

/** The copy's target already holds data and `force` was not given; nothing was written. */
export class CopyTargetNotEmptyError extends Error {
  override readonly name = 'CopyTargetNotEmptyError';
  constructor(
    readonly target: string,
    readonly counts: TableCounts,
  ) {
    super(`target '${target}' is not empty (${describeCounts(counts)}); copy into an empty database, or pass --force to replace what it holds`);
  }
}

/**
 * A database's tables are not the ones this hwlat copies (written by another version); nothing was
 * written. `problems` lists the tables and columns that differ.
 */
export class CopySchemaError extends Error {
  override readonly name = 'CopySchemaError';
  constructor(
    readonly database: string,
    readonly problems: readonly string[],
  ) {
    super(`database '${database}' does not have the tables this hwlat copies (${problems.join('; ')}); copy with the hwlat version that wrote it`);
  }
}

/** After copying, the target's row counts differ from the source's; the copy was rolled back. */
export class CopyVerifyError extends Error {
  override readonly name = 'CopyVerifyError';
  constructor(
    readonly target: string,
    readonly expected: TableCounts,
    readonly actual: TableCounts,
  ) {
    const diff = Object.keys(expected)
      .filter((k) => expected[k as keyof TableCounts] !== actual[k as keyof TableCounts])
      .map((k) => `${k}: ${actual[k as keyof TableCounts]} of ${expected[k as keyof TableCounts]}`);
    super(`copy into '${target}' does not add up (${diff.join(', ')}); it was rolled back, nothing was written`);
  }
}
