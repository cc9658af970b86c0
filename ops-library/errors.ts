/**
 * An unknown name was looked up in one of the frozen registries (ops, spaces, backends, formats).
 * The message names the key and lists the known ones: never a silent skip.
 */
export class UnknownKeyError extends RangeError {
  override readonly name = 'UnknownKeyError';
  constructor(
    readonly what: string,
    readonly key: string,
    readonly known: readonly string[],
  ) {
    super(`unknown ${what} '${key}'; known: ${known.join(', ')}`);
  }
}

/** An architecture string that does not parse in its space; the message says where and why. */
export class ArchParseError extends SyntaxError {
  override readonly name = 'ArchParseError';
  constructor(
    readonly space: string,
    readonly arch: string,
    reason: string,
  ) {
    super(`invalid ${space} architecture '${arch}': ${reason}`);
  }
}

/** Looks `key` up in a frozen table, throwing UnknownKeyError when it is absent. */
export function lookup<T>(table: Readonly<Record<string, T>>, what: string, key: string): T {
  if (!Object.prototype.hasOwnProperty.call(table, key)) {
    throw new UnknownKeyError(what, key, Object.keys(table));
  }
  return table[key] as T;
}
