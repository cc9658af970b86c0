import type { LatencyParams } from './types.ts';

/** The documented formula, written into every JSON export. */
export const LATENCY_JSON_FORMULA = {
  additive: [
    'p: probabilities [layers][candidates] (rows sum to 1; padding columns, candidate null, are 0); x = p flattened row-major',
    'lin = base + Σ_{l,i} p[l][i]·scores[l][i]',
    'h = x; for each mlp layer: h = h·W + b (W is [inputs][units]), then relu(h) where relu is true',
    "mlp_mode 'residual': y = lin·(0.1 + relu(0.9 + h)); 'encoding': y = y_scale·h; null: y = lin",
    'if floor_ms is not null: y = floor_ms + relu(y − floor_ms)',
    'latency_ms = y; the plain LUT sum is lut_fixed_ms + Σ p[l][i]·lut_ms[l][i] (reported, not the prediction unless kind is lut-sum)',
  ],
  enumerated: [
    'p: probabilities [layers][candidates] (rows sum to 1)',
    'latency_ms = Σ_a (Π_l p[l][archs[a][l]]) · arch_ms[a]  (the exact expectation over independent per-layer choices)',
  ],
} as const;

const round = (v: number) => Number(v.toPrecision(9));
const grid = (a: Float32Array, L: number, C: number) => Array.from({ length: L }, (_, l) => Array.from(a.subarray(l * C, (l + 1) * C), round));

/**
 * The model as JSON: the LUT matrix, the correction's weights and the formula that combines them,
 * for any language to evaluate and differentiate.
 *
 * @example
 * writeFileSync('fbnet-latency.json', JSON.stringify(latencyJson(model.params)));
 */
export function latencyJson(params: LatencyParams): Record<string, unknown> {
  const { layers: L, candidates: C } = params;
  const common = {
    format: params.format,
    space: params.space,
    device: params.deviceId,
    kind: params.kind,
    calibration_ms: params.calibrationMs,
    layers: L,
    candidates: C,
    positions: params.positions,
    candidate_names: params.candidateNames,
    form: params.form,
    formula: LATENCY_JSON_FORMULA[params.form],
    lut_fixed_ms: round(params.lutFixedMs),
    lut_ms: grid(params.lutMs, L, C),
  };
  if (params.form === 'enumerated') {
    const archs = params.archs as Int32Array;
    const N = archs.length / L;
    return {
      ...common,
      archs: Array.from({ length: N }, (_, a) => Array.from(archs.subarray(a * L, (a + 1) * L))),
      arch_ms: Array.from(params.archMs as Float32Array, round),
    };
  }
  return {
    ...common,
    base: round(params.base),
    scores: grid(params.scores, L, C),
    mlp_mode: params.mlpMode,
    mlp: (params.mlp ?? []).map((d) => ({
      W: Array.from({ length: d.inputs }, (_, i) => Array.from(d.kernel.subarray(i * d.units, (i + 1) * d.units), round)),
      b: Array.from(d.bias, round),
      relu: d.relu,
    })),
    y_scale: round(params.yScale),
    floor_ms: params.floorMs === null ? null : round(params.floorMs),
  };
}
