import { getSpace, specKey, type SearchSpace } from '../../ops-library/index.ts';
import { LutParseError, MissingLutKeysError, UnsupportedSpaceError } from '../errors.ts';
import { isNonNegative } from '../math.ts';
import type { Lut, LutEntry, LutFileMeta, LutFormat, LutFormatContext } from '../types.ts';

const NAME = 'fbnet';
/** The `format` field of the file: bumped whenever the layout changes. */
export const FBNET_LUT_FORMAT = 'hwlat-fbnet-lut/1';

/** The file's layout: one row of candidate latencies per searchable position. */
export interface FbnetLutDocument {
  format: typeof FBNET_LUT_FORMAT;
  space: string;
  deviceId: string;
  unit: 'ms';
  /** every candidate name of the space, in first-seen order: the columns of `layers` */
  candidates: string[];
  /** per searchable position, per candidate: Σ LUT mean of its units; null where the position lacks it */
  layers: Array<Array<number | null>>;
  /** the fixed units (stem, head): key → mean */
  fixed: Record<string, number>;
}

/** The space named by the context (an object or a name), or undefined. */
function contextSpace(space: LutFormatContext['space']): SearchSpace | undefined {
  if (space === undefined || space === null) return undefined;
  return typeof space === 'string' ? getSpace(space) : space;
}

/** Refuses spaces where a candidate adds more than one unit: its cell could not be mapped back to a key. */
function assertExpressible(space: SearchSpace): void {
  for (const p of space.positions) {
    for (const c of p.choices) {
      if (c.units.length > 1) {
        throw new UnsupportedSpaceError(
          NAME,
          space.name,
          `candidate '${c.name}' of position '${p.name}' adds ${c.units.length} LUT units and a cell of this format holds one ` +
            `(use the 'proxyless' or 'csv' format, which hold every unit by key)`,
        );
      }
    }
  }
}

/** Candidate names over all positions, first-seen order (positions may lack some, e.g. 'zero'). */
function candidateNames(space: SearchSpace): string[] {
  const names: string[] = [];
  for (const p of space.positions) for (const c of p.choices) if (!names.includes(c.name)) names.push(c.name);
  return names;
}

/**
 * Writes the FBNet-style table for a space. Throws TypeError without a space, UnsupportedSpaceError
 * for a space a cell cannot express, MissingLutKeysError listing every key the LUT lacks.
 */
function format(lut: Lut, ctx: LutFormatContext = {}): string {
  const space = contextSpace(ctx.space) ?? contextSpace(lut.space);
  if (!space) throw new TypeError("the fbnet LUT format needs a search space: pass 'ctx.space' (or build the LUT with a space)");
  assertExpressible(space);
  const missing: string[] = [];
  const mean = (key: string): number => {
    const e = lut.entries.get(key);
    if (e === undefined) {
      if (!missing.includes(key)) missing.push(key);
      return 0;
    }
    return e.mean;
  };
  const candidates = candidateNames(space);
  const layers = space.positions.map((p) =>
    candidates.map((name) => {
      const choice = p.choices.find((c) => c.name === name);
      // zero/identity candidates add no unit: they cost nothing on top of their neighbours
      return choice ? choice.units.reduce((sum, u) => sum + mean(specKey(u)), 0) : null;
    }),
  );
  const fixed: Array<[string, number]> = [];
  for (const unit of space.fixedUnits) {
    const key = specKey(unit);
    if (!fixed.some(([k]) => k === key)) fixed.push([key, mean(key)]);
  }
  if (missing.length > 0) throw new MissingLutKeysError(lut.deviceId, space.name, missing);

  // one row per position keeps a 22 × 9 table readable; JSON.stringify keeps every number exact
  const j = JSON.stringify;
  return [
    '{',
    `  "format": ${j(FBNET_LUT_FORMAT)},`,
    `  "space": ${j(space.name)},`,
    `  "deviceId": ${j(lut.deviceId)},`,
    `  "unit": "ms",`,
    `  "candidates": ${j(candidates)},`,
    layers.length === 0 ? '  "layers": [],' : `  "layers": [\n${layers.map((row) => `    ${j(row)}`).join(',\n')}\n  ],`,
    fixed.length === 0 ? '  "fixed": {}' : `  "fixed": {\n${fixed.map(([k, v]) => `    ${j(k)}: ${j(v)}`).join(',\n')}\n  }`,
    '}',
    '',
  ].join('\n');
}

function fail(where: string, reason: string): never {
  throw new LutParseError(NAME, where, reason);
}

function asObject(value: unknown, where: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(where, `expected an object, got ${Array.isArray(value) ? 'a list' : String(value)}`);
  return value as Record<string, unknown>;
}

function readJson(text: string): Record<string, unknown> {
  if (typeof text !== 'string') throw new TypeError(`'text' must be a string, got ${typeof text}`);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    fail('document', `not valid JSON: ${(e as Error).message}`);
  }
  return asObject(data, 'document');
}

/**
 * Reads the table back into entries: each (position, candidate) cell becomes its one unit's key,
 * each `fixed` entry its key. A key that several positions share (the later layers of a stage)
 * is the mean of its cells, count = how many cells carried it, var = their spread. The file has
 * no run counts or quantiles: each cell counts as one figure, and median, p10, p90 = mean.
 */
function parse(text: string, ctx: LutFormatContext = {}): Map<string, LutEntry> {
  const doc = readJson(text);
  if (doc.format !== FBNET_LUT_FORMAT) fail('format', `expected '${FBNET_LUT_FORMAT}', got ${j(doc.format)}`);
  if (doc.unit !== 'ms') fail('unit', `expected 'ms', got ${j(doc.unit)}`);
  if (typeof doc.space !== 'string') fail('space', `expected a space name, got ${j(doc.space)}`);
  const given = contextSpace(ctx.space);
  if (given && given.name !== doc.space) fail('space', `the file is for space '${doc.space}', not '${given.name}'`);
  const space = given ?? getSpace(doc.space);
  assertExpressible(space);

  const candidates = doc.candidates;
  if (!Array.isArray(candidates) || candidates.some((c) => typeof c !== 'string')) fail('candidates', 'expected a list of candidate names');
  const dup = candidates.find((c, i) => candidates.indexOf(c) !== i);
  if (dup !== undefined) fail('candidates', `candidate '${dup}' appears twice`);
  const layers = doc.layers;
  if (!Array.isArray(layers)) fail('layers', 'expected a list of rows, one per searchable position');
  if (layers.length !== space.positions.length) {
    fail('layers', `space '${space.name}' has ${space.positions.length} searchable positions, the file has ${layers.length} rows`);
  }

  const values = new Map<string, number[]>();
  const add = (key: string, value: number) => {
    const list = values.get(key);
    if (list) list.push(value);
    else values.set(key, [value]);
  };
  layers.forEach((row: unknown, p) => {
    const position = space.positions[p] as SearchSpace['positions'][number];
    if (!Array.isArray(row) || row.length !== candidates.length) {
      fail(`layers[${p}]`, `expected a row of ${candidates.length} latencies (one per candidate), got ${Array.isArray(row) ? `${row.length}` : j(row)}`);
    }
    row.forEach((value: unknown, c) => {
      const where = `layers[${p}][${c}]`;
      const name = candidates[c] as string;
      if (value === null) return;
      if (!isNonNegative(value)) fail(where, `expected a latency >= 0 in ms or null, got ${j(value)}`);
      const choice = position.choices.find((ch) => ch.name === name);
      if (!choice) fail(where, `'${name}' is not a candidate of position '${position.name}' in space '${space.name}'; expected null`);
      const unit = choice.units[0];
      if (unit === undefined) {
        // a candidate without units has no key to carry a latency: a non-zero figure would be lost
        if (value !== 0) fail(where, `'${name}' adds no LUT unit at position '${position.name}'; expected 0, got ${value}`);
        return;
      }
      add(specKey(unit), value);
    });
  });
  const fixed = asObject(doc.fixed ?? {}, 'fixed');
  for (const [key, value] of Object.entries(fixed)) {
    if (!isNonNegative(value)) fail(`fixed['${key}']`, `expected a latency >= 0 in ms, got ${j(value)}`);
    add(key, value);
  }

  const out = new Map<string, LutEntry>();
  for (const [key, list] of values) {
    // offsets from the first value: cells that agree give back exactly their number
    const first = list[0] as number;
    const mean = first + list.reduce((a, b) => a + (b - first), 0) / list.length;
    const spread = list.reduce((a, b) => a + (b - mean) ** 2, 0) / list.length;
    out.set(key, { key, count: list.length, mean, var: spread, median: mean, p10: mean, p90: mean });
  }
  return out;
}

function j(value: unknown): string {
  return value === undefined ? 'nothing' : JSON.stringify(value);
}

/** The device and space the file names; {} for text that is not JSON (parse reports that). */
function meta(text: string): LutFileMeta {
  try {
    const doc = JSON.parse(text) as Record<string, unknown>;
    const out: LutFileMeta = {};
    if (typeof doc?.deviceId === 'string') out.deviceId = doc.deviceId;
    if (typeof doc?.space === 'string') out.space = doc.space;
    return out;
  } catch {
    return {};
  }
}

/**
 * FBNet-style json: per searchable position, the latency of every candidate (Σ LUT mean of the
 * units it adds), plus the fixed units by key. Needs the space to format.
 *
 * @example
 * import { LUT_FORMATS } from './lut/index.ts';
 * try {
 *   LUT_FORMATS.fbnet.format({ deviceId: 'dev-0123456789ab', calibrationMs: null, entries: new Map() }, { space: 'fbnet' });
 * } catch (e) {
 *   console.log((e as Error).name); // 'MissingLutKeysError' (it lists all 105 keys)
 * }
 */
export const fbnetFormat: LutFormat = Object.freeze({
  name: NAME,
  summary: `FBNet-style json (${FBNET_LUT_FORMAT}): per searchable position, every candidate's latency; needs --space`,
  extension: '.json',
  parse,
  format,
  meta,
});
