import { specKey, type OpSpec, type SearchSpace } from '../ops-library/index.ts';

/** Where one unit's latency came from. */
export type UnitSource = 'lut' | 'regressor';

export interface UnitCost {
  key: string;
  ms: number;
  source: UnitSource;
}

/** Latency of one LUT unit; throws when neither the LUT nor a regressor can answer. */
export type UnitLatency = (spec: OpSpec, key: string) => UnitCost;

/**
 * A space's costs laid out for fast and differentiable prediction: the fixed units, and for each
 * searchable position and candidate the units it adds. Network features are additive over these
 * (fixed + Σ_positions chosen), so E[features] under architecture probabilities is linear in them.
 */
export interface SpaceTables {
  space: string;
  /** distinct candidate names across positions, the aggregate feature groups */
  choiceNames: string[];
  fixed: UnitCost[];
  /** [position][candidate] → its units' costs */
  choices: UnitCost[][][];
  /** feature names, in vector order */
  featureNames: string[];
  /** feature vector of the fixed part */
  fixedFeatures: Float64Array;
  /** [position][candidate] → feature vector contribution */
  choiceFeatures: Float64Array[][];
  /** [position][candidate] → Σ unit ms (the LUT-sum path) */
  choiceMs: Float64Array[];
  fixedMs: number;
}

const sumMs = (units: readonly UnitCost[]) => units.reduce((a, u) => a + u.ms, 0);

/**
 * Lays out a space's unit costs. Features: total LUT ms, then per candidate name its LUT ms and
 * its count — what fusion and per-call overhead depend on beyond the plain sum.
 */
export function buildSpaceTables(space: SearchSpace, unitLatency: UnitLatency): SpaceTables {
  const cost = (spec: OpSpec) => unitLatency(spec, specKey(spec));
  const choiceNames = [...new Set(space.positions.flatMap((p) => p.choices.map((c) => c.name)))];
  const featureNames = ['lut_ms', ...choiceNames.map((c) => `ms:${c}`), ...choiceNames.map((c) => `count:${c}`)];
  const D = featureNames.length;
  const fixed = space.fixedUnits.map(cost);
  const fixedFeatures = new Float64Array(D);
  fixedFeatures[0] = sumMs(fixed);
  const choices = space.positions.map((p) => p.choices.map((c) => c.units.map(cost)));
  const choiceFeatures = space.positions.map((p, pi) =>
    p.choices.map((c, ci) => {
      const v = new Float64Array(D);
      const ms = sumMs(choices[pi]?.[ci] ?? []);
      const k = choiceNames.indexOf(c.name);
      v[0] = ms;
      v[1 + k] = ms;
      v[1 + choiceNames.length + k] = 1;
      return v;
    }),
  );
  return {
    space: space.name,
    choiceNames,
    fixed,
    choices,
    featureNames,
    fixedFeatures,
    choiceFeatures,
    choiceMs: choices.map((cs) => Float64Array.from(cs.map(sumMs))),
    fixedMs: sumMs(fixed),
  };
}

/** Candidate indices of an arch string, position by position. */
export function choiceIndices(space: SearchSpace, arch: string): Int32Array {
  const names = space.parse(arch);
  return Int32Array.from(names.map((n, i) => (space.positions[i] as SearchSpace['positions'][number]).choices.findIndex((c) => c.name === n)));
}

/** Additive network features of one architecture (fixed + chosen candidates). */
export function networkFeatures(t: SpaceTables, idx: Int32Array, out = new Float64Array(t.fixedFeatures.length)): Float64Array {
  out.set(t.fixedFeatures);
  for (let p = 0; p < idx.length; p++) {
    const v = t.choiceFeatures[p]?.[idx[p] as number] as Float64Array;
    for (let d = 0; d < out.length; d++) out[d] = (out[d] as number) + (v[d] as number);
  }
  return out;
}

/** The plain LUT sum of one architecture. */
export function lutSum(t: SpaceTables, idx: Int32Array): number {
  let s = t.fixedMs;
  for (let p = 0; p < idx.length; p++) s += (t.choiceMs[p] as Float64Array)[idx[p] as number] as number;
  return s;
}
