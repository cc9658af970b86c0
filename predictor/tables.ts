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
 * A space's costs laid out for fast and differentiable prediction. A network's features are a
 * sum over the units it executes of φ(unit) = [ms, ms into its type, 1 into its type's count, ms
 * into its key]: what fusion, per-call overhead and a badly measured LUT entry depend on beyond
 * the plain sum. In an additive space that sum is fixed + Σ_positions chosen candidate, so
 * E[features] under architecture probabilities is linear in the per-candidate tables.
 */
export interface SpaceTables {
  space: SearchSpace;
  featureNames: string[];
  fixed: UnitCost[];
  /** [position][candidate] → its units' costs */
  choices: UnitCost[][][];
  fixedFeatures: Float64Array;
  /** [position][candidate] → feature vector contribution */
  choiceFeatures: Float64Array[][];
  /** [position][candidate] → Σ unit ms (the LUT-sum path) */
  choiceMs: Float64Array[];
  fixedMs: number;
  /** cost of any unit by spec (memoised), for non-additive spaces */
  cost(spec: OpSpec): UnitCost;
  /** features and LUT sum of architectures of non-additive spaces, memoised by arch */
  readonly memo: Map<string, { features: Float64Array; lutMs: number; units: UnitCost[] }>;
  phi(unit: UnitCost, into: Float64Array): void;
}

/** A unit's type: its key's prefix ('expanded_conv', 'k3_e1', 'nor_conv_3x3', 'add', …). */
export const unitType = (key: string) => key.slice(0, key.indexOf('-input:'));

/** Lays out a space's unit costs (LUT hits, else the per-kernel regressor). */
export function buildSpaceTables(space: SearchSpace, unitLatency: UnitLatency): SpaceTables {
  const cache = new Map<string, UnitCost>();
  const cost = (spec: OpSpec): UnitCost => {
    const key = specKey(spec);
    let c = cache.get(key);
    if (!c) cache.set(key, (c = unitLatency(spec, key)));
    return c;
  };
  const fixed = space.fixedUnits.map(cost);
  const choices = space.positions.map((p) => p.choices.map((c) => c.units.map(cost)));
  const structural = space.structuralUnits.map(cost);
  const all = [...fixed, ...choices.flat(2), ...structural];
  const types = [...new Set(all.map((u) => unitType(u.key)))];
  // fixed units are in every network: their keys carry no information beyond the intercept
  const fixedKeys = new Set(fixed.map((u) => u.key));
  const keys = [...new Set([...choices.flat(2), ...structural].map((u) => u.key))].filter((k) => !fixedKeys.has(k));
  const featureNames = ['lut_ms', ...types.map((t) => `ms:${t}`), ...types.map((t) => `count:${t}`), ...keys.map((k) => `key:${k}`)];
  const typeIndex = new Map(types.map((t, i) => [t, i]));
  const keyIndex = new Map(keys.map((k, i) => [k, 1 + 2 * types.length + i]));
  const D = featureNames.length;
  const phi = (u: UnitCost, v: Float64Array) => {
    const t = typeIndex.get(unitType(u.key)) as number;
    v[0] = (v[0] as number) + u.ms;
    v[1 + t] = (v[1 + t] as number) + u.ms;
    v[1 + types.length + t] = (v[1 + types.length + t] as number) + 1;
    const k = keyIndex.get(u.key);
    if (k !== undefined) v[k] = (v[k] as number) + u.ms;
  };
  const sumPhi = (units: readonly UnitCost[]) => {
    const v = new Float64Array(D);
    for (const u of units) phi(u, v);
    return v;
  };
  const sumMs = (units: readonly UnitCost[]) => units.reduce((a, u) => a + u.ms, 0);
  return {
    space,
    featureNames,
    fixed,
    choices,
    fixedFeatures: sumPhi(fixed),
    choiceFeatures: choices.map((cs) => cs.map(sumPhi)),
    choiceMs: choices.map((cs) => Float64Array.from(cs.map(sumMs))),
    fixedMs: sumMs(fixed),
    cost,
    memo: new Map(),
    phi,
  };
}

/** Features, LUT sum and units of a non-additive space's architecture, from space.units(arch). */
function exact(t: SpaceTables, idx: Int32Array): { features: Float64Array; lutMs: number; units: UnitCost[] } {
  const sig = idx.join(',');
  let hit = t.memo.get(sig);
  if (!hit) {
    const arch = t.space.format(t.space.positions.map((p, i) => p.choices[idx[i] as number]?.name as string));
    const units = t.space.units(arch).map(t.cost);
    const features = new Float64Array(t.featureNames.length);
    for (const u of units) t.phi(u, features);
    hit = { features, lutMs: units.reduce((a, u) => a + u.ms, 0), units };
    t.memo.set(sig, hit);
  }
  return hit;
}

/** Network features of one architecture: table sums (additive spaces) or its exact units. */
export function networkFeatures(t: SpaceTables, idx: Int32Array, out = new Float64Array(t.fixedFeatures.length)): Float64Array {
  if (!t.space.additive) {
    out.set(exact(t, idx).features);
    return out;
  }
  out.set(t.fixedFeatures);
  for (let p = 0; p < idx.length; p++) {
    const v = t.choiceFeatures[p]?.[idx[p] as number] as Float64Array;
    for (let d = 0; d < out.length; d++) out[d] = (out[d] as number) + (v[d] as number);
  }
  return out;
}

/** The plain LUT sum of one architecture. */
export function lutSum(t: SpaceTables, idx: Int32Array): number {
  if (!t.space.additive) return exact(t, idx).lutMs;
  let s = t.fixedMs;
  for (let p = 0; p < idx.length; p++) s += (t.choiceMs[p] as Float64Array)[idx[p] as number] as number;
  return s;
}

/** The units one architecture executes, with their costs and where they sit (for breakdowns). */
export function architectureUnits(t: SpaceTables, idx: Int32Array): Array<{ position: string; choice: string | null; unit: UnitCost }> {
  if (!t.space.additive) return exact(t, idx).units.map((unit) => ({ position: 'network', choice: null, unit }));
  const out = t.fixed.map((unit) => ({ position: 'fixed', choice: null as string | null, unit }));
  idx.forEach((c, p) => {
    const pos = t.space.positions[p] as SearchSpace['positions'][number];
    for (const unit of t.choices[p]?.[c] ?? []) out.push({ position: pos.name, choice: pos.choices[c]?.name ?? null, unit });
  });
  return out;
}
