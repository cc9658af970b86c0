import type { SearchSpace } from '../../ops-library/index.ts';
import { choiceIndex } from '../choices.ts';

/** Architectures as one choice index per position, and the one-hot layout over all positions. */
export interface ArchCodes {
  n: number;
  /** positions per architecture */
  p: number;
  /** `codes[i * p + j]`: the one-hot column of architecture i's choice at position j */
  codes: Int32Array;
  /** one-hot width: the number of (position, choice) pairs */
  width: number;
}

/**
 * Parses every arch string with the space's own parser (so an unknown string throws its
 * ArchParseError) and lays the choices out as one-hot columns.
 */
export function encodeArchs(space: SearchSpace, archs: readonly string[]): ArchCodes {
  const { offsets, width, indices } = choiceIndex(space);
  const p = space.positions.length;
  const codes = new Int32Array(archs.length * p);
  archs.forEach((arch, i) => {
    const idx = indices(arch);
    for (let j = 0; j < p; j++) codes[i * p + j] = (offsets[j] as number) + (idx[j] as number);
  });
  return { n: archs.length, p, codes, width };
}

/** Column means of the one-hot matrix (the share of architectures with each choice). */
export function oneHotMeans(c: ArchCodes): Float64Array {
  const mu = new Float64Array(c.width);
  for (let k = 0; k < c.codes.length; k++) mu[c.codes[k] as number] = (mu[c.codes[k] as number] as number) + 1;
  for (let w = 0; w < c.width; w++) mu[w] = (mu[w] as number) / Math.max(1, c.n);
  return mu;
}

/** Σ_j v[code(i, j)] for every architecture: an additive model's value, per architecture. */
export function additiveValues(c: ArchCodes, v: ArrayLike<number>): Float64Array {
  const out = new Float64Array(c.n);
  for (let i = 0; i < c.n; i++) {
    let s = 0;
    for (let j = 0; j < c.p; j++) s += v[c.codes[i * c.p + j] as number] as number;
    out[i] = s;
  }
  return out;
}
