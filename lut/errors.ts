/**
 * Text that is not the format it claims to be (malformed yaml, a csv line with the wrong number of
 * fields, json of another shape). The message names the format and where: a line, a field path.
 */
export class LutParseError extends SyntaxError {
  override readonly name = 'LutParseError';
  constructor(
    readonly format: string,
    readonly where: string,
    reason: string,
  ) {
    super(`${format} LUT: ${where}: ${reason}`);
  }
}

/** A LUT entry with a missing or invalid field; the message names the key and the field. */
export class LutEntryError extends TypeError {
  override readonly name = 'LutEntryError';
  constructor(
    readonly format: string,
    readonly key: string,
    readonly field: string,
    reason: string,
  ) {
    super(`${format} LUT: entry '${key}': field '${field}' ${reason}`);
  }
}

/**
 * A LUT lacks keys that an export needs (every unit of a space, for 'fbnet'). All of them are
 * listed, so one profiling run can fill the gap.
 */
export class MissingLutKeysError extends Error {
  override readonly name = 'MissingLutKeysError';
  constructor(
    readonly deviceId: string,
    readonly space: string,
    readonly keys: readonly string[],
  ) {
    super(
      `the LUT of device '${deviceId}' lacks ${keys.length} key${keys.length === 1 ? '' : 's'} that space '${space}' needs ` +
        `(measure them with \`hwlat profile --space ${space} --ops\`): ${keys.join(', ')}`,
    );
  }
}

/** A LUT file that cannot be read or written; the message names the path and the reason. */
export class LutFileError extends Error {
  override readonly name = 'LutFileError';
  constructor(
    readonly path: string,
    readonly operation: 'read' | 'write',
    reason: string,
  ) {
    super(`cannot ${operation} LUT file '${path}': ${reason}`);
  }
}

/**
 * A format that cannot express a space: the 'fbnet' format holds one latency per (position,
 * candidate) and maps it back to one LUT key, so a candidate that adds several units (a
 * NAS-Bench-201 edge op is one unit per cell) does not fit.
 */
export class UnsupportedSpaceError extends RangeError {
  override readonly name = 'UnsupportedSpaceError';
  constructor(
    readonly format: string,
    readonly space: string,
    reason: string,
  ) {
    super(`the ${format} LUT format cannot express space '${space}': ${reason}`);
  }
}
