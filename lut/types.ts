import type { OpSpec, SearchSpace } from '../ops-library/index.ts';

/**
 * One LUT entry: the latency of one canonical layer key (ops-library's `specKey`) on one device,
 * in milliseconds. `count` is how many timed runs stand behind it (the ProxylessNAS/OFA field);
 * `var` is the variance of a single run (ms²), so √var is the run-to-run spread.
 */
export interface LutEntry {
  key: string;
  count: number;
  mean: number;
  var: number;
  median: number;
  p10: number;
  p90: number;
}

/**
 * A device's lookup table: key → entry, in a stable order (the order the keys were first seen).
 * Values are expressed at `calibrationMs`, the reference calibration every measurement was
 * normalised to (null when none of them carried a calibration, e.g. an imported LUT).
 */
export interface Lut {
  deviceId: string;
  /** the search space the entries were built for, when they were filtered by one */
  space?: string | null;
  /** the reference calibration (ms of the calibration workload) the values are expressed at */
  calibrationMs: number | null;
  entries: ReadonlyMap<string, LutEntry>;
}

/** Options of buildLut. */
export interface BuildLutOptions {
  /** the device the LUT is for; defaults to the measurements' device (required when there are none) */
  deviceId?: string;
  /**
   * the reference calibration to express the values at; defaults to the median calibrationMs of
   * the op-level measurements (null or absent both mean "use the default")
   */
  calibrationMs?: number | null;
  /** recorded as Lut.space; defaults to the measurements' space when they all share one, else null */
  space?: string | null;
}

/** The names the interchange formats are registered under. */
export type LutFormatName = 'proxyless' | 'fbnet' | 'csv';

/** What a format may need besides the text or the LUT. */
export interface LutFormatContext {
  /**
   * the search space (or its name). 'fbnet' needs it to format (else the LUT's own `space` is
   * used); to parse, 'fbnet' falls back to the space the file names. The other formats ignore it.
   */
  space?: SearchSpace | string | null;
  /** the device the parsed entries belong to (readLutFile's Lut.deviceId) */
  deviceId?: string;
}

/** What a file says about itself besides its entries (only some formats carry this). */
export interface LutFileMeta {
  deviceId?: string;
  space?: string;
}

/**
 * An interchange format. `parse` returns the entries in file order and throws LutParseError (a
 * SyntaxError) for text that is not the format, LutEntryError (a TypeError) naming the key and
 * field for a bad entry; `format` returns the text (ending in a newline).
 */
export interface LutFormat {
  readonly name: LutFormatName;
  readonly summary: string;
  /** the file extension these files usually have, with the dot */
  readonly extension: string;
  parse(text: string, ctx?: LutFormatContext): Map<string, LutEntry>;
  format(lut: Lut, ctx?: LutFormatContext): string;
  /** the device and space the file names, for formats whose files carry them */
  meta?(text: string): LutFileMeta;
}

/** Options of lutToMeasurements. */
export interface LutImportOptions {
  deviceId: string;
  passId: string;
  /** the space the entries belong to, recorded on every measurement (null: none) */
  space: string | null;
  /** the op spec of a key, stored with its measurement when known (see specsOfSpace) */
  specOf?: (key: string) => OpSpec | undefined;
  /** ISO timestamp recorded as createdAt (default: now) */
  createdAt?: string;
}

/** An entry as lutToMeasurements accepts it: median and quantiles may be unknown. */
export type LutEntryInput = Pick<LutEntry, 'key' | 'count' | 'mean' | 'var'> & Partial<Pick<LutEntry, 'median' | 'p10' | 'p90'>>;
