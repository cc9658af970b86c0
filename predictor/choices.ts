import type { SearchSpace } from '../ops-library/index.ts';

/**
 * How a space's architectures are encoded for the predictors, defined once: an arch string becomes
 * one candidate index per position, and position p's candidate i is one-hot column offsets[p] + i.
 */
export interface ChoiceIndex {
  /** start of each position's block of one-hot columns */
  offsets: Int32Array;
  /** one-hot width: the number of (position, candidate) pairs */
  width: number;
  /**
   * Candidate indices of an arch string: the space's parser (its errors name the problem), then
   * one Map lookup per position.
   */
  indices(arch: string): Int32Array;
}

const cache = new WeakMap<SearchSpace, ChoiceIndex>();

/** The space's ChoiceIndex (built once per space). */
export function choiceIndex(space: SearchSpace): ChoiceIndex {
  let hit = cache.get(space);
  if (hit) return hit;
  const offsets = new Int32Array(space.positions.length);
  let width = 0;
  const names = space.positions.map((pos, p) => {
    offsets[p] = width;
    width += pos.choices.length;
    return new Map(pos.choices.map((c, i) => [c.name, i]));
  });
  hit = {
    offsets,
    width,
    indices(arch: string): Int32Array {
      const chosen = space.parse(arch);
      const out = new Int32Array(chosen.length);
      for (let p = 0; p < chosen.length; p++) out[p] = names[p]?.get(chosen[p] as string) as number;
      return out;
    },
  };
  cache.set(space, hit);
  return hit;
}

/** Candidate indices of an arch string, position by position. */
export function choiceIndices(space: SearchSpace, arch: string): Int32Array {
  return choiceIndex(space).indices(arch);
}

/** Start of each position's block in the one-hot architecture encoding, and its width. */
export function oneHotLayout(space: SearchSpace): { offsets: Int32Array; width: number } {
  const { offsets, width } = choiceIndex(space);
  return { offsets, width };
}

/** One-hot encodings of a batch of architectures, row-major [batch, width]. */
export function oneHotBatch(layout: { offsets: Int32Array; width: number }, batch: readonly Int32Array[]): Float32Array {
  const x = new Float32Array(batch.length * layout.width);
  batch.forEach((idx, i) => idx.forEach((c, p) => (x[i * layout.width + (layout.offsets[p] as number) + c] = 1)));
  return x;
}
