import type { ReferenceLatencies, TargetSample } from './types.ts';

/** One row of an `arch_id,arch` file. */
export interface CsvArch {
  id: string;
  arch: string;
}

function lines(text: string): Array<{ line: number; text: string }> {
  return text
    .split(/\r?\n/)
    .map((t, i) => ({ line: i + 1, text: t }))
    .filter((l) => l.text.trim() !== '');
}

function header(rows: Array<{ line: number; text: string }>, file: string, expect: string): string[] {
  const first = rows[0];
  if (!first) throw new SyntaxError(`'${file}' is empty: expected the header '${expect}'`);
  return first.text.split(',').map((s) => s.trim());
}

/**
 * Parses `arch_id,arch` (arch strings have no commas). `file` names the source in errors.
 *
 * @example
 * parseArchsCsv('arch_id,arch\n0,k3_e1-skip', 'archs.csv') // [{ id: '0', arch: 'k3_e1-skip' }]
 */
export function parseArchsCsv(text: string, file: string): CsvArch[] {
  const rows = lines(text);
  const h = header(rows, file, 'arch_id,arch');
  if (h[0] !== 'arch_id' || h[1] !== 'arch' || h.length !== 2) throw new SyntaxError(`'${file}' line 1: the header must be 'arch_id,arch', got '${rows[0]?.text}'`);
  const seen = new Set<string>();
  const out = rows.slice(1).map(({ line, text: t }) => {
    const comma = t.indexOf(',');
    if (comma < 0) throw new SyntaxError(`'${file}' line ${line}: expected 'arch_id,arch', got '${t}'`);
    const id = t.slice(0, comma).trim();
    const arch = t.slice(comma + 1).trim();
    if (id === '') throw new SyntaxError(`'${file}' line ${line}: column 'arch_id' is empty`);
    if (arch === '') throw new SyntaxError(`'${file}' line ${line}: column 'arch' is empty`);
    if (seen.has(id)) throw new SyntaxError(`'${file}' line ${line}: arch_id '${id}' appears twice`);
    seen.add(id);
    return { id, arch };
  });
  if (out.length === 0) throw new SyntaxError(`'${file}' has a header but no architectures`);
  return out;
}

function latency(value: string, file: string, line: number, column: string): number {
  const v = Number(value);
  if (value.trim() === '' || !Number.isFinite(v)) throw new SyntaxError(`'${file}' line ${line}, column '${column}': '${value}' is not a number`);
  if (v <= 0) throw new RangeError(`'${file}' line ${line}, column '${column}': a latency must be > 0 ms, got ${value}`);
  return v;
}

function archIndex(ids: ReadonlyMap<string, number>, id: string, file: string, line: number, archsFile: string): number {
  const i = ids.get(id);
  if (i === undefined) throw new RangeError(`'${file}' line ${line}: arch_id '${id}' is not in '${archsFile}'`);
  return i;
}

/**
 * Parses `arch_id,<device>,…` (ms); an empty cell or `NaN` means "not measured on that device".
 * Every arch_id must be one of `ids` (arch_id → index in the archs file).
 */
export function parseReferenceCsv(text: string, file: string, ids: ReadonlyMap<string, number>, archsFile: string): ReferenceLatencies {
  const rows = lines(text);
  const h = header(rows, file, 'arch_id,<device>,...');
  if (h[0] !== 'arch_id') throw new SyntaxError(`'${file}' line 1: the first column must be 'arch_id', got '${h[0]}'`);
  const devices = h.slice(1);
  if (devices.length === 0) throw new SyntaxError(`'${file}' line 1: no device columns after 'arch_id'`);
  devices.forEach((d, c) => {
    if (d === '') throw new SyntaxError(`'${file}' line 1: device column ${c + 2} has no name`);
    if (devices.indexOf(d) !== c) throw new SyntaxError(`'${file}' line 1: device column '${d}' appears twice`);
  });
  const ms = devices.map(() => new Float64Array(ids.size).fill(Number.NaN));
  const seen = new Set<string>();
  for (const { line, text: t } of rows.slice(1)) {
    const cells = t.split(',');
    if (cells.length !== h.length) throw new SyntaxError(`'${file}' line ${line}: expected ${h.length} columns, got ${cells.length}`);
    const id = (cells[0] as string).trim();
    const i = archIndex(ids, id, file, line, archsFile);
    if (seen.has(id)) throw new SyntaxError(`'${file}' line ${line}: arch_id '${id}' appears twice`);
    seen.add(id);
    devices.forEach((d, c) => {
      const cell = (cells[c + 1] as string).trim();
      if (cell === '' || cell === 'NaN' || cell === 'nan') return;
      (ms[c] as Float64Array)[i] = latency(cell, file, line, d);
    });
  }
  if (seen.size === 0) throw new SyntaxError(`'${file}' has a header but no rows`);
  return { devices, ms };
}

/** Parses `arch_id,latency_ms`: the new device's few measurements (at least 2). */
export function parseTargetCsv(text: string, file: string, ids: ReadonlyMap<string, number>, archsFile: string): TargetSample[] {
  const rows = lines(text);
  const h = header(rows, file, 'arch_id,latency_ms');
  if (h[0] !== 'arch_id' || h[1] !== 'latency_ms' || h.length !== 2) throw new SyntaxError(`'${file}' line 1: the header must be 'arch_id,latency_ms', got '${rows[0]?.text}'`);
  const seen = new Set<string>();
  const out = rows.slice(1).map(({ line, text: t }) => {
    const cells = t.split(',');
    if (cells.length !== 2) throw new SyntaxError(`'${file}' line ${line}: expected 2 columns, got ${cells.length}`);
    const id = (cells[0] as string).trim();
    const index = archIndex(ids, id, file, line, archsFile);
    if (seen.has(id)) throw new SyntaxError(`'${file}' line ${line}: arch_id '${id}' appears twice`);
    seen.add(id);
    return { index, ms: latency(cells[1] as string, file, line, 'latency_ms') };
  });
  if (out.length < 2) throw new RangeError(`'${file}' holds ${out.length} measurement(s) of the new device; few-shot transfer needs at least 2`);
  return out;
}

/**
 * `arch_id,latency_ms` rows, 5 decimals; with `interval` (the prediction's lo and hi ends, ms) also
 * `lo_ms,hi_ms`, the ends of each prediction's interval.
 *
 * @example
 * formatPredictionsCsv(['a'], [2], { lo: [1.5], hi: [2.6] }) // 'arch_id,latency_ms,lo_ms,hi_ms\na,2.00000,1.50000,2.60000\n'
 */
export function formatPredictionsCsv(ids: readonly string[], ms: ArrayLike<number>, interval?: { lo: ArrayLike<number>; hi: ArrayLike<number> }): string {
  const out = [interval ? 'arch_id,latency_ms,lo_ms,hi_ms' : 'arch_id,latency_ms'];
  for (let i = 0; i < ids.length; i++) out.push(`${ids[i]},${(ms[i] as number).toFixed(5)}${interval ? `,${(interval.lo[i] as number).toFixed(5)},${(interval.hi[i] as number).toFixed(5)}` : ''}`);
  return `${out.join('\n')}\n`;
}
