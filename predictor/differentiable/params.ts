import type { tf } from '../tf.ts';
import type { LatencyPredictor } from '../predictor.ts';
import { oneHotLayout } from '../choices.ts';
import { PREDICTOR_KINDS, type PredictorKind } from '../types.ts';
import type { DenseParams, LatencyParams } from './types.ts';

/** The most architectures a non-additive space may have for its exact enumerated expectation. */
export const MAX_ENUMERATED = 200_000;

/** The dense layers of a small tfjs MLP, as plain arrays. */
function denseLayers(model: tf.LayersModel): DenseParams[] {
  return model.layers.map((layer) => {
    const [k, b] = layer.getWeights() as [tf.Tensor, tf.Tensor];
    const [inputs, units] = k.shape as [number, number];
    const cfg = layer.getConfig() as { activation?: string };
    return { inputs, units, kernel: Float32Array.from(k.dataSync()), bias: Float32Array.from(b.dataSync()), relu: cfg.activation === 'relu' };
  });
}

/**
 * The predictor's parameters laid out on the `[layers × candidates]` probability grid (see
 * LatencyParams for the formula). For a one-hot grid the formula gives exactly the predictor's
 * own prediction of that architecture.
 *
 * @example
 * const params = latencyParams(await loadPredictor('models/fbnet'), { kind: 'composite' });
 * params.layers // 22
 */
export function latencyParams(predictor: LatencyPredictor, options: { kind?: PredictorKind; calibrationMs?: number } = {}): LatencyParams {
  const kind = options.kind ?? predictor.data.chosen;
  if (!(PREDICTOR_KINDS as readonly string[]).includes(kind)) throw new RangeError(`unknown predictor kind '${String(kind)}'; known: ${PREDICTOR_KINDS.join(', ')}`);
  if (kind === 'encoding-mlp' && !predictor.encodingModel) throw new RangeError(`'kind': this predictor has no 'encoding-mlp' model`);
  const data = predictor.data;
  const space = predictor.space;
  if (space.positions.length === 0) throw new RangeError(`space '${space.name}' is a fixed network: it has no positions to differentiate over`);
  // the RBF correction is fitted only for non-additive spaces, whose model here is enumerated
  if (space.additive && data.kernelResidual) throw new RangeError(`'${space.name}' is additive but its predictor has an RBF correction: it cannot be laid out on the probability grid`);
  const scale = predictor.calibrationScale(options.calibrationMs);
  const L = space.positions.length;
  const C = Math.max(...space.positions.map((p) => p.choices.length));
  const t = predictor.tables;
  const common = {
    format: 'hwlat-latency-model/1' as const,
    space: space.name,
    deviceId: data.deviceId,
    kind,
    calibrationMs: options.calibrationMs ?? data.calibrationMs,
    layers: L,
    candidates: C,
    positions: space.positions.map((p) => p.name),
    candidateNames: space.positions.map((p) => Array.from({ length: C }, (_, i) => p.choices[i]?.name ?? null)),
    lutFixedMs: t.fixedMs * scale,
    lutMs: new Float32Array(L * C),
  };
  if (space.additive) t.choiceMs.forEach((ms, l) => ms.forEach((v, i) => (common.lutMs[l * C + i] = v * scale)));

  if (!space.additive) {
    // every architecture, predicted once: the expectation is then exact whatever the predictor is
    const total = space.positions.reduce((a, p) => a * p.choices.length, 1);
    if (total > MAX_ENUMERATED) {
      throw new RangeError(`space '${space.name}' is not additive and has ${total} architectures (> ${MAX_ENUMERATED}): its expected latency cannot be enumerated`);
    }
    const archs = new Int32Array(total * L);
    const batch: Int32Array[] = [];
    for (let a = 0; a < total; a++) {
      const idx = archs.subarray(a * L, (a + 1) * L);
      let rest = a;
      for (let l = L - 1; l >= 0; l--) {
        const n = (space.positions[l] as (typeof space.positions)[number]).choices.length;
        idx[l] = rest % n;
        rest = Math.floor(rest / n);
      }
      batch.push(idx);
    }
    const ms = predictor.predictIndices(batch, kind);
    return {
      ...common, form: 'enumerated', base: 0, scores: new Float32Array(L * C), mlp: null, mlpMode: null, yScale: 1, floorMs: null,
      archs, archMs: Float32Array.from(ms, (v) => v * scale),
    };
  }

  const c = data.correction;
  const floor = c.floorMs ?? 0;
  const scores = new Float32Array(L * C);
  if (kind === 'lut-sum') {
    return { ...common, form: 'additive', base: common.lutFixedMs, scores: common.lutMs.slice(), mlp: null, mlpMode: null, yScale: 1, floorMs: null, archs: null, archMs: null };
  }
  // grid-laid first layer: one-hot column offsets[l] + i becomes grid column l·C + i
  const layout = oneHotLayout(space);
  const onGrid = (layers: DenseParams[]): DenseParams[] => {
    const first = layers[0] as DenseParams;
    const kernel = new Float32Array(L * C * first.units);
    for (let l = 0; l < L; l++) {
      const n = (space.positions[l] as (typeof space.positions)[number]).choices.length;
      for (let i = 0; i < n; i++) kernel.set(first.kernel.subarray(((layout.offsets[l] as number) + i) * first.units, ((layout.offsets[l] as number) + i + 1) * first.units), (l * C + i) * first.units);
    }
    return [{ ...first, inputs: L * C, kernel }, ...layers.slice(1)];
  };
  if (kind === 'encoding-mlp') {
    const enc = data.encoding;
    return {
      ...common, form: 'additive', base: 0, scores, mlp: onGrid(denseLayers(predictor.encodingModel as tf.LayersModel)), mlpMode: 'encoding',
      yScale: (enc?.yScale ?? 1) * scale, floorMs: floor * scale, archs: null, archMs: null,
    };
  }
  // composite: the linear correction folded into per-candidate scores (as LatencyPredictor does)
  const w = c.kernel.map((k, d) => (k * c.yScale) / (c.scale[d] as number));
  const dot = (v: Float64Array) => v.reduce((a, x, d) => a + x * (w[d] as number), 0);
  t.choiceFeatures.forEach((cs, l) => cs.forEach((f, i) => (scores[l * C + i] = dot(f) * scale)));
  const residual = data.residual && predictor.residualModel ? onGrid(denseLayers(predictor.residualModel)) : null;
  return {
    ...common, form: 'additive', base: (c.bias * c.yScale + dot(t.fixedFeatures)) * scale, scores, mlp: residual, mlpMode: residual ? 'residual' : null,
    yScale: 1, floorMs: floor * scale, archs: null, archMs: null,
  };
}
