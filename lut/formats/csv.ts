import { LutEntryError, LutParseError } from '../errors.ts';
import type { Lut, LutEntry, LutFormat } from '../types.ts';
import { checkedEntry, formatNumber, type RawEntryFields } from './entry.ts';

const NAME = 'csv';
const COLUMNS = Object.freeze(['key', 'count', 'mean', 'var', 'median', 'p10', 'p90'] as const);
/** What a header may name: the written columns, and `std` (var = std²) as other tools write it. */
const READ_COLUMNS = Object.freeze([...COLUMNS, 'std'] as const);
type Column = (typeof READ_COLUMNS)[number];

/** One csv record: its fields and the line it starts on (a quoted field may span lines). */
interface Row {
  line: number;
  fields: string[];
}

/**
 * Splits RFC 4180 csv text into records: fields separated by commas, a field with a comma, quote
 * or line break is double-quoted with quotes doubled. CRLF and LF both end a record; empty lines
 * are skipped.
 */
function records(text: string): Row[] {
  const rows: Row[] = [];
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let start = 1;
  let quoted = false;
  let wasQuoted = false;
  // a record whose only field is quoted ("") is a record, not a blank line
  let wasQuotedRecord = false;
  let i = 0;
  const endField = () => {
    fields.push(field);
    field = '';
    wasQuoted = false;
  };
  const endRecord = () => {
    endField();
    // a blank line is one empty unquoted field: skip it rather than call it a short record
    if (!(fields.length === 1 && fields[0] === '' && !wasQuotedRecord)) rows.push({ line: start, fields });
    fields = [];
    wasQuotedRecord = false;
  };
  while (i < text.length) {
    const ch = text[i] as string;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        const next = text[i];
        if (next !== undefined && next !== ',' && next !== '\n' && next !== '\r') {
          throw new LutParseError(NAME, `line ${line}`, `unexpected '${next}' after a closing quote (quotes inside a quoted field are doubled)`);
        }
        continue;
      }
      if (ch === '\n') line++;
      field += ch;
      i++;
      continue;
    }
    if (ch === '"') {
      if (field !== '' || wasQuoted) throw new LutParseError(NAME, `line ${line}`, 'a quote inside an unquoted field (quote the whole field)');
      quoted = true;
      wasQuoted = true;
      wasQuotedRecord = true;
      i++;
    } else if (ch === ',') {
      endField();
      i++;
    } else if (ch === '\n' || ch === '\r') {
      endRecord();
      i += ch === '\r' && text[i + 1] === '\n' ? 2 : 1;
      line++;
      start = line;
    } else {
      field += ch;
      i++;
    }
  }
  if (quoted) throw new LutParseError(NAME, `line ${start}`, 'a quoted field is never closed');
  if (field !== '' || fields.length > 0 || wasQuotedRecord) endRecord();
  return rows;
}

/**
 * Parses `key,count,mean,var,median,p10,p90` with a header line. The header names the columns
 * (any order; `key` and `mean` are required, the others default as in the OFA format, and `std`
 * may stand for `var`); an unknown column is an error rather than data silently dropped.
 */
function parse(text: string): Map<string, LutEntry> {
  if (typeof text !== 'string') throw new TypeError(`'text' must be a string, got ${typeof text}`);
  // a BOM from a spreadsheet export would otherwise become part of the first column's name
  const rows = records(text.replace(/^\uFEFF/, ''));
  const header = rows.shift();
  if (!header) throw new LutParseError(NAME, 'line 1', `missing the header line '${COLUMNS.join(',')}'`);
  const index = new Map<Column, number>();
  header.fields.forEach((raw, i) => {
    const name = raw.trim();
    if (!(READ_COLUMNS as readonly string[]).includes(name)) {
      throw new LutParseError(NAME, `line ${header.line}`, `unknown column '${name}'; known: ${READ_COLUMNS.join(', ')}`);
    }
    if (index.has(name as Column)) throw new LutParseError(NAME, `line ${header.line}`, `column '${name}' appears twice`);
    index.set(name as Column, i);
  });
  for (const required of ['key', 'mean'] as const) {
    if (!index.has(required)) throw new LutParseError(NAME, `line ${header.line}`, `the header lacks the '${required}' column`);
  }
  const out = new Map<string, LutEntry>();
  for (const row of rows) {
    if (row.fields.length !== header.fields.length) {
      throw new LutParseError(NAME, `line ${row.line}`, `expected ${header.fields.length} fields, got ${row.fields.length}`);
    }
    const key = row.fields[index.get('key') as number] as string;
    if (key === '') throw new LutParseError(NAME, `line ${row.line}`, 'empty key');
    if (out.has(key)) throw new LutParseError(NAME, `line ${row.line}`, `key '${key}' appears twice`);
    const fields: RawEntryFields = {};
    for (const [column, i] of index) {
      if (column === 'key') continue;
      const cell = (row.fields[i] as string).trim();
      // an empty optional cell takes its default; Number('') would silently read as 0
      if (cell === '') continue;
      const value = Number(cell);
      if (Number.isNaN(value)) throw new LutEntryError(NAME, key, column, `must be a number, got '${cell}' (line ${row.line})`);
      fields[column] = value;
    }
    out.set(key, checkedEntry(NAME, key, fields, `line ${row.line}`));
  }
  return out;
}

function csvField(value: string): string {
  return /[",\r\n]/.test(value) || value !== value.trim() ? `"${value.replace(/"/g, '""')}"` : value;
}

function format(lut: Lut): string {
  const lines = [COLUMNS.join(',')];
  for (const [key, e] of lut.entries) {
    lines.push([csvField(key), ...COLUMNS.slice(1).map((c) => formatNumber(e[c as Exclude<(typeof COLUMNS)[number], 'key'>]))].join(','));
  }
  return `${lines.join('\n')}\n`;
}

/**
 * CSV with a header: `key,count,mean,var,median,p10,p90`, milliseconds. Keys with commas, quotes
 * or line breaks are double-quoted (RFC 4180).
 *
 * @example
 * import { LUT_FORMATS } from './lut/index.ts';
 * const entries = LUT_FORMATS.csv.parse('key,count,mean,var,median,p10,p90\n"a,b",3,1.5,0.01,1.4,1.3,1.7\n');
 * console.log(entries.get('a,b')?.median); // 1.4
 */
export const csvFormat: LutFormat = Object.freeze({
  name: NAME,
  summary: 'CSV with a header: key,count,mean,var,median,p10,p90 (milliseconds)',
  extension: '.csv',
  parse,
  format,
});
