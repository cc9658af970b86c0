import { graphCost, lowerSpec, type SearchSpace } from '../../ops-library/index.ts';
import { additiveValues, type ArchCodes } from './encode.ts';

/** What a chosen candidate adds to a network, from ops-library's cost model: FLOPs, memory traffic, kernels. */
export const PHYSICAL_FEATURES = Object.freeze(['flops', 'memoryBytes', 'kernels'] as const);

const cache = new WeakMap<SearchSpace, Float64Array[]>();

/** Per one-hot column (position × choice), each physical feature of the choice's LUT units. */
export function choiceCostTables(space: SearchSpace): Float64Array[] {
  const hit = cache.get(space);
  if (hit) return hit;
  const width = space.positions.reduce((a, p) => a + p.choices.length, 0);
  const tables = PHYSICAL_FEATURES.map(() => new Float64Array(width));
  let w = 0;
  for (const pos of space.positions) {
    for (const choice of pos.choices) {
      for (const unit of choice.units) {
        const c = graphCost(lowerSpec(unit));
        (tables[0] as Float64Array)[w] = ((tables[0] as Float64Array)[w] as number) + c.flops;
        (tables[1] as Float64Array)[w] = ((tables[1] as Float64Array)[w] as number) + c.memoryBytes;
        (tables[2] as Float64Array)[w] = ((tables[2] as Float64Array)[w] as number) + 1;
      }
      w++;
    }
  }
  cache.set(space, tables);
  return tables;
}

/**
 * Every architecture's searchable-part FLOPs, memory traffic and kernel count, each divided by
 * its mean over the architectures (features that are constant are left out).
 */
export function physicalFeatures(space: SearchSpace, codes: ArchCodes): Float64Array[] {
  const out: Float64Array[] = [];
  for (const table of choiceCostTables(space)) {
    const v = additiveValues(codes, table);
    let mean = 0;
    let min = Infinity;
    let max = -Infinity;
    for (const x of v) {
      mean += x;
      min = Math.min(min, x);
      max = Math.max(max, x);
    }
    mean /= Math.max(1, v.length);
    if (!(mean > 0) || max - min <= 1e-12 * mean) continue;
    out.push(v.map((x) => x / mean));
  }
  return out;
}
