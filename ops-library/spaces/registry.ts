import seedrandom from 'seedrandom';
import { lookup } from '../errors.ts';
import { specKey } from '../graph.ts';
import type { OpSpec } from '../ops/types.ts';
import { fbnet, fbnetImagenet } from './fbnet.ts';
import { mobilenetv2, resnet18 } from './fixed.ts';
import { nasbench201 } from './nasbench201.ts';
import { proxylessMobile } from './proxyless.ts';
import type { SearchSpace } from './types.ts';

/** Every search space and fixed network, by name. */
export const SPACES: Readonly<Record<string, SearchSpace>> = Object.freeze({
  'proxyless-mobile': proxylessMobile,
  fbnet,
  'fbnet-imagenet': fbnetImagenet,
  nasbench201,
  mobilenetv2,
  resnet18,
});

/** The space called `name`; an unknown name throws UnknownKeyError listing the known ones. */
export function getSpace(name: string): SearchSpace {
  return lookup(SPACES, 'space', name);
}

export interface SampleOptions {
  count: number;
  seed?: number;
  /** return distinct architectures (default true; gives fewer when the space is smaller) */
  distinct?: boolean;
}

/**
 * Seeded uniform sampler: each position's choice is drawn uniformly. Same seed, same archs.
 *
 * @example
 * sampleArchs(getSpace('fbnet'), { count: 3, seed: 1 }) // three arch strings
 */
export function sampleArchs(space: SearchSpace, options: SampleOptions): string[] {
  const { count, seed = 0, distinct = true } = options;
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`'count' must be a non-negative integer, got ${count}`);
  const rng = seedrandom.alea(`hwlat-sample-${space.name}-${seed}`);
  const out: string[] = [];
  const seen = new Set<string>();
  // every architecture drawn: later draws could only repeat one (NAS-Bench-201 has 15,625 and the
  // demo asks for 20,000, which would otherwise spin through all count × 50 tries)
  const size = space.positions.reduce((a, p) => a * p.choices.length, 1);
  // distinct draws from a small space (or a fixed net) stop after a bounded number of tries
  for (let tries = 0; out.length < count && tries < count * 50 + 10; tries++) {
    if (distinct && seen.size >= size) break;
    const arch = space.format(space.positions.map((p) => (p.choices[Math.floor(rng() * p.choices.length)] as { name: string }).name));
    if (distinct && seen.has(arch)) continue;
    seen.add(arch);
    out.push(arch);
  }
  return out;
}

/** Every distinct LUT unit of a space (fixed units and all candidates' units), keyed. */
export function spaceUnits(space: SearchSpace): Map<string, OpSpec> {
  const out = new Map<string, OpSpec>();
  const add = (spec: OpSpec) => {
    const key = specKey(spec);
    if (!out.has(key)) out.set(key, spec);
  };
  space.fixedUnits.forEach(add);
  for (const p of space.positions) for (const c of p.choices) c.units.forEach(add);
  space.structuralUnits.forEach(add);
  return out;
}

/**
 * The layer keys that measuring a space's ops covers: its distinct units (spaceUnits) in their
 * order, only the first `maxOps` when given (a quick sample). `hwlat profile --ops` and a
 * campaign's op-level tasks both measure these, so a local profile and a fleet campaign with the
 * same `maxOps` measure the same keys.
 *
 * @example
 * opUnitsToMeasure(getSpace('nasbench201'), { maxOps: 3 }); // [[key, spec], …] three entries
 */
export function opUnitsToMeasure(space: SearchSpace, options: { maxOps?: number | undefined } = {}): Array<[string, OpSpec]> {
  return [...spaceUnits(space)].slice(0, options.maxOps);
}
