import { ArchParseError } from '../errors.ts';
import type { Layer, Network } from '../graph.ts';
import type { OpSpec } from '../ops/types.ts';
import type { Chw } from '../shape.ts';
import type { Position, SearchSpace } from './types.ts';

export interface SpaceDefinition {
  name: string;
  summary: string;
  input: Chw;
  classes: number;
  positions: readonly Position[];
  fixedUnits: readonly OpSpec[];
  /** splits an arch string into raw tokens, one per position (format errors thrown here) */
  split(arch: string): string[];
  join(choices: readonly string[]): string;
  /** the network's layers for validated choices */
  layers(choices: readonly string[]): Layer[];
  /**
   * The units the runtime really executes, when that is not simply the fixed units plus the
   * chosen candidates' (NAS-Bench-201: dead edges are pruned, node sums are Adds). Absent: additive.
   */
  units?(choices: readonly string[]): OpSpec[];
  /** units that occur depending on the whole architecture (NAS-Bench-201's Adds and zeros) */
  structuralUnits?: readonly OpSpec[];
  /**
   * The space's anchor network (conditions/networks.ts): a fixed member measured in every round of
   * a group of the space's networks, so each group carries how this space's networks ran in it.
   * Frozen once released: a stored anchorMs means "this network in that round".
   */
  anchor?: string;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o as object)) deepFreeze(v);
  }
  return o;
}

/** Builds a SearchSpace from its definition: parsing, validation and units are generic. */
export function defineSpace(def: SpaceDefinition): SearchSpace {
  // one Set per position: predictors parse arch strings in batches of 100,000
  const allowed = def.positions.map((p) => new Set(p.choices.map((c) => c.name)));
  const parse = (arch: string): readonly string[] => {
    if (typeof arch !== 'string') throw new TypeError(`'arch' must be a string, got ${typeof arch}`);
    const tokens = def.split(arch.trim());
    if (tokens.length !== def.positions.length) {
      throw new ArchParseError(def.name, arch, `expected ${def.positions.length} choices, got ${tokens.length}`);
    }
    for (let i = 0; i < tokens.length; i++) {
      if (!(allowed[i] as Set<string>).has(tokens[i] as string)) {
        const pos = def.positions[i] as Position;
        throw new ArchParseError(def.name, arch, `'${tokens[i]}' at ${pos.name} is not one of ${pos.choices.map((c) => c.name).join(', ')}`);
      }
    }
    return Object.freeze(tokens);
  };
  const space: SearchSpace = {
    name: def.name,
    summary: def.summary,
    input: def.input,
    classes: def.classes,
    positions: deepFreeze(def.positions),
    fixedUnits: deepFreeze(def.fixedUnits),
    parse,
    format: (choices) => def.join(parse(def.join(choices))),
    expand(arch): Network {
      const choices = parse(arch);
      return deepFreeze({ space: def.name, arch: def.join(choices), input: def.input, layers: def.layers(choices) });
    },
    additive: def.units === undefined,
    anchor: null,
    structuralUnits: deepFreeze(def.structuralUnits ?? []),
    units(arch) {
      const choices = parse(arch);
      if (def.units) return def.units(choices);
      const out: OpSpec[] = [...def.fixedUnits];
      choices.forEach((c, i) => out.push(...((def.positions[i] as Position).choices.find((x) => x.name === c)?.units ?? [])));
      return out;
    },
  };
  if (def.anchor !== undefined) {
    // a bad anchor is a bug in the space's data: fail at load, naming the space
    parse(def.anchor);
    (space as { anchor: string | null }).anchor = def.anchor;
  }
  return Object.freeze(space);
}
