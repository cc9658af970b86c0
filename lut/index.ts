export type {
  BuildLutOptions, Lut, LutEntry, LutEntryInput, LutFileMeta, LutFormat, LutFormatContext, LutFormatName, LutImportOptions,
} from './types.ts';
export { LutEntryError, LutFileError, LutParseError, MissingLutKeysError, UnsupportedSpaceError } from './errors.ts';
export { buildLut, lutLookup } from './build.ts';
export { LUT_FORMATS, getLutFormat, listLutFormats } from './formats/registry.ts';
export { FBNET_LUT_FORMAT, type FbnetLutDocument } from './formats/fbnet.ts';
export { lutToMeasurements, specsOfSpace, storedFigures } from './import.ts';
export { LUT_FIGURE_TOLERANCE, sameLutEntry, unstoredEntries } from './compare.ts';
export { readLutFile, writeLutFile, type LutFileWritten } from './io.ts';
