import { lookup } from '../../ops-library/index.ts';
import type { LutFormat, LutFormatName } from '../types.ts';
import { csvFormat } from './csv.ts';
import { fbnetFormat } from './fbnet.ts';
import { proxylessFormat } from './proxyless.ts';

/** The LUT interchange formats by name. Frozen: a format is added here, never at run time. */
export const LUT_FORMATS: Readonly<Record<LutFormatName, LutFormat>> = Object.freeze({
  proxyless: proxylessFormat,
  fbnet: fbnetFormat,
  csv: csvFormat,
});

/**
 * The format called `name`; an unknown name throws UnknownKeyError listing the known ones.
 *
 * @example
 * import { getLutFormat } from './lut/index.ts';
 * getLutFormat('csv').extension; // '.csv'
 * getLutFormat('onnx');          // throws: unknown LUT format 'onnx'; known: proxyless, fbnet, csv
 */
export function getLutFormat(name: string): LutFormat {
  if (typeof name !== 'string') throw new TypeError(`'name' must be a LUT format name, got ${typeof name}`);
  return lookup(LUT_FORMATS, 'LUT format', name);
}

/** Names of the registered formats, in registration order. */
export function listLutFormats(): LutFormatName[] {
  return Object.keys(LUT_FORMATS) as LutFormatName[];
}
