import { parseDocument } from 'yaml';
import { LutParseError } from '../errors.ts';
import type { Lut, LutEntry, LutFormat } from '../types.ts';
import { checkedEntry, formatNumber, type RawEntryFields } from './entry.ts';

const NAME = 'proxyless';

/** Keys that YAML reads back as the same plain string; anything else is written double-quoted. */
const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_.:+\-]*$/;
const YAML_WORDS = /^(true|false|null|yes|no|on|off|y|n)$/i;

function yamlKey(key: string): string {
  // a JSON string is a valid YAML double-quoted scalar, escapes included
  return PLAIN_KEY.test(key) && !key.endsWith(':') && !YAML_WORDS.test(key) ? key : JSON.stringify(key);
}

/**
 * Parses the ProxylessNAS/OFA lookup-table yaml: a mapping `<key>: {count, mean, var}` in ms;
 * OFA's tables give `std` instead of `var` (var = std²). Fields other than count, mean, var, std,
 * median, p10 and p90 are ignored (a reader of the published files must accept what other tools
 * add); median, p10 and p90 default to the mean.
 */
function parse(text: string): Map<string, LutEntry> {
  if (typeof text !== 'string') throw new TypeError(`'text' must be a string, got ${typeof text}`);
  // uniqueKeys: a key given twice is an error, never a silent overwrite
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  const first = doc.errors[0];
  if (first) {
    const pos = first.linePos?.[0];
    throw new LutParseError(NAME, pos ? `line ${pos.line}` : 'document', `malformed yaml: ${(first.message.split('\n')[0] ?? '').replace(/:\s*$/, '')}`);
  }
  // maps as Maps: a plain object would move integer-like keys to the front and lose file order
  const data: unknown = doc.toJS({ mapAsMap: true });
  const out = new Map<string, LutEntry>();
  if (data === null || data === undefined) return out;
  if (!(data instanceof Map)) {
    throw new LutParseError(NAME, 'document', `expected a mapping of key → {count, mean, var}, got ${Array.isArray(data) ? 'a list' : typeof data}`);
  }
  for (const [rawKey, value] of data) {
    if (typeof rawKey !== 'string' && typeof rawKey !== 'number') {
      throw new LutParseError(NAME, 'document', `keys must be plain strings, got ${Array.isArray(rawKey) ? 'a list' : typeof rawKey}`);
    }
    const key = String(rawKey);
    if (!(value instanceof Map)) {
      throw new LutParseError(NAME, `entry '${key}'`, `expected a mapping {count, mean, var}, got ${Array.isArray(value) ? 'a list' : String(value)}`);
    }
    out.set(key, checkedEntry(NAME, key, Object.fromEntries([...value].map(([f, v]) => [String(f), v])) as RawEntryFields));
  }
  return out;
}

/**
 * Writes the yaml in the published files' block layout. median, p10 and p90 are added where they
 * differ from the mean, so a round trip loses nothing; ProxylessNAS reads only `mean`.
 */
function format(lut: Lut): string {
  const lines: string[] = [];
  for (const [key, e] of lut.entries) {
    lines.push(`${yamlKey(key)}:`, `  count: ${formatNumber(e.count)}`, `  mean: ${formatNumber(e.mean)}`, `  var: ${formatNumber(e.var)}`);
    for (const field of ['median', 'p10', 'p90'] as const) {
      if (e[field] !== e.mean) lines.push(`  ${field}: ${formatNumber(e[field])}`);
    }
  }
  return lines.length === 0 ? '{}\n' : `${lines.join('\n')}\n`;
}

/**
 * The ProxylessNAS/OFA yaml.
 *
 * @example
 * import { LUT_FORMATS } from './lut/index.ts';
 * const entries = LUT_FORMATS.proxyless.parse('Conv-input:224x224x3-output:112x112x32: {count: 50, mean: 4.37, var: 0.04}\n');
 * console.log(entries.get('Conv-input:224x224x3-output:112x112x32')?.mean); // 4.37
 */
export const proxylessFormat: LutFormat = Object.freeze({
  name: NAME,
  summary: 'ProxylessNAS/OFA lookup-table yaml: <key>: {count, mean, var (or std)}, milliseconds',
  extension: '.yaml',
  parse,
  format,
});
