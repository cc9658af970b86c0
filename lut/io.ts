import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { LutFileError } from './errors.ts';
import { getLutFormat } from './formats/registry.ts';
import type { Lut, LutFormatContext } from './types.ts';

/** A short reason for an fs error: its code's meaning, not a stack of syscall details. */
function reason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  switch (err.code) {
    case 'ENOENT':
      return 'ENOENT: no such file or directory';
    case 'EACCES':
    case 'EPERM':
      return `${err.code}: permission denied`;
    case 'EISDIR':
      return 'EISDIR: it is a directory';
    case 'ENOTDIR':
      return 'ENOTDIR: a parent is not a directory';
    default:
      return err.message ?? String(e);
  }
}

/**
 * Reads a LUT file in a registered format. The LUT's device is ctx.deviceId, else the one the
 * file names (fbnet), else 'unknown'; its space likewise; calibrationMs is null (a file carries
 * no calibration of ours). Throws UnknownKeyError for an unknown format (before touching the
 * file), LutFileError naming the path when it cannot be read, and the format's parse errors.
 *
 * @example
 * import { readLutFile } from './lut/index.ts';
 * const lut = readLutFile('mobile_lut.yaml', 'proxyless', { deviceId: 'dev-0123456789ab' });
 * console.log(lut.entries.size);
 */
export function readLutFile(path: string, format: string, ctx: LutFormatContext = {}): Lut {
  if (typeof path !== 'string' || path === '') throw new TypeError("'path' must be a non-empty file path");
  const fmt = getLutFormat(format);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new LutFileError(path, 'read', reason(e));
  }
  const entries = fmt.parse(text, ctx);
  const meta = fmt.meta?.(text) ?? {};
  const ctxSpace = typeof ctx.space === 'string' ? ctx.space : (ctx.space?.name ?? null);
  return { deviceId: ctx.deviceId ?? meta.deviceId ?? 'unknown', space: ctxSpace ?? meta.space ?? null, calibrationMs: null, entries };
}

/** What writeLutFile wrote. */
export interface LutFileWritten {
  /**
   * the entries (keys) the file holds, counted by reading the text back: an fbnet table holds its
   * space's layers only, whatever else the LUT has
   */
  entries: number;
}

/**
 * Writes a LUT in a registered format. The text is made first, so a LUT the format cannot hold
 * (MissingLutKeysError for fbnet) writes nothing; it then goes to a temporary file renamed over
 * `path`, so a reader never sees half a table. Returns how many entries the file holds. Throws
 * LutFileError naming the path when it cannot be written (missing directory, no permission).
 *
 * @example
 * import { buildLut, writeLutFile } from './lut/index.ts';
 * writeLutFile('/tmp/lut.csv', buildLut([], { deviceId: 'dev-0123456789ab' }), 'csv'); // { entries: 0 }
 */
export function writeLutFile(path: string, lut: Lut, format: string, ctx: LutFormatContext = {}): LutFileWritten {
  if (typeof path !== 'string' || path === '') throw new TypeError("'path' must be a non-empty file path");
  const fmt = getLutFormat(format);
  const text = fmt.format(lut, ctx);
  // counted from the text itself, so the figure is what a reader of the file will find
  const written: LutFileWritten = { entries: fmt.parse(text, { ...ctx, space: ctx.space ?? lut.space }).size };
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, text, 'utf8');
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new LutFileError(path, 'write', reason(e));
  }
  return written;
}
