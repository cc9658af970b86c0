import type { Network } from '../graph.ts';
import type { OpSpec } from '../ops/types.ts';
import type { Chw } from '../shape.ts';

/** One candidate of a searchable position and the LUT units it adds (none for zero/identity). */
export interface Choice {
  readonly name: string;
  readonly units: readonly OpSpec[];
}

/** A searchable position (a layer, or a cell edge shared by all cells) and its candidates. */
export interface Position {
  readonly name: string;
  readonly choices: readonly Choice[];
}

/**
 * A search space: an architecture is one choice per position, written as the space's arch string.
 * Fixed networks are spaces with no positions.
 */
export interface SearchSpace {
  readonly name: string;
  readonly summary: string;
  readonly input: Chw;
  readonly classes: number;
  /** searchable positions in arch-string order, each with its candidates in LUT order */
  readonly positions: readonly Position[];
  /** LUT units every architecture has (stem, fixed blocks, head) */
  readonly fixedUnits: readonly OpSpec[];
  /**
   * True when units(arch) is exactly the fixed units plus each chosen candidate's units, so
   * per-candidate tables are exact (and E[latency] under candidate probabilities is linear in them).
   */
  readonly additive: boolean;
  /** units that may occur depending on the whole architecture (beyond the candidates' own) */
  readonly structuralUnits: readonly OpSpec[];
  /** the anchor network's arch string, measured beside the space's networks; null: none */
  readonly anchor: string | null;
  /** arch string → one choice name per position; throws ArchParseError naming the problem */
  parse(arch: string): readonly string[];
  /** choice names → canonical arch string */
  format(choices: readonly string[]): string;
  /** the whole network, layer by layer, with concrete shapes */
  expand(arch: string): Network;
  /** the LUT decomposition: the units the runtime executes for this architecture */
  units(arch: string): OpSpec[];
}
