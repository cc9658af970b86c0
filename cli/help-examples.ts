import { getSpace, sampleArchs, SPACES } from '../ops-library/index.ts';

/**
 * The closing section of a command's `--help`: full command lines.
 *
 * @example
 * cmd.addHelpText('after', examples('hwlat train --space fbnet --out models/fbnet'));
 */
export function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;
}

/** An architecture string of a space: its first seeded sample, the same in every run. */
export function exampleArch(space: string): string {
  return sampleArchs(getSpace(space), { count: 1, seed: 0 })[0] ?? '';
}

/** One architecture string of every space, for the `--help` of commands that take `--arch`. */
export function archStrings(): string {
  const names = Object.keys(SPACES);
  const width = Math.max(...names.map((n) => n.length));
  return `\nArchitecture strings (one of each space; fixed networks take their name):\n${names.map((n) => `  ${n.padEnd(width)}  '${exampleArch(n)}'`).join('\n')}\n`;
}
