import { getSpace, type OpSpec, type SearchSpace } from '../ops-library/index.ts';
import { predictKernel } from './kernels.ts';
import { predictRows } from './regressors.ts';
import { architectureUnits, buildSpaceTables, choiceIndices, lutSum, networkFeatures, oneHotBatch, oneHotLayout, type SpaceTables, type UnitCost } from './tables.ts';
import type { tf } from './tf.ts';
import type { BreakdownRow, Prediction, PredictorData, PredictorKind } from './types.ts';

export interface PredictOptions {
  /** which predictor (default: the one that won on validation) */
  kind?: PredictorKind;
  /** the device's current calibration latency; scales the prediction from the reference one */
  calibrationMs?: number;
}

/**
 * A trained latency predictor for one device and one space: LUT sum, composite (LUT sum +
 * per-kernel regressor for missing keys + learned network-level correction) and the
 * encoding→MLP baseline. Loads from a directory without the database (see model-dir.ts).
 *
 * @example
 * const p = await loadPredictor('models/fbnet-cpu');
 * const { ms, low, high } = p.predict('k3_e1-skip-…');
 */
export class LatencyPredictor {
  readonly space: SearchSpace;
  readonly tables: SpaceTables;
  private readonly layout: { offsets: Int32Array; width: number };

  constructor(
    readonly data: PredictorData,
    readonly encodingModel: tf.LayersModel | null,
    readonly residualModel: tf.LayersModel | null = null,
  ) {
    this.space = getSpace(data.space);
    this.tables = buildSpaceTables(this.space, (spec, key) => unitCost(data, spec, key));
    this.layout = oneHotLayout(this.space);
  }

  get deviceId(): string {
    return this.data.deviceId;
  }

  /** Predicts one architecture, with its uncertainty band and per-layer breakdown. */
  predict(arch: string, options: PredictOptions = {}): Prediction {
    const kind = options.kind ?? this.data.chosen;
    const idx = choiceIndices(this.space, arch);
    const ms = this.predictIndices([idx], kind)[0] as number;
    const scale = this.calibrationScale(options.calibrationMs);
    const [lo, hi] = this.data.bands[kind] ?? [0, 0];
    const breakdown: BreakdownRow[] = architectureUnits(this.tables, idx).map(({ position, choice, unit }) => ({
      position, choice, key: unit.key, ms: unit.ms * scale, source: unit.source,
    }));
    return {
      space: this.space.name,
      arch: this.space.format(this.space.parse(arch)),
      kind,
      ms: ms * scale,
      // the band is the spread of validation errors (pred − true)/true around this prediction
      low: (ms * scale) / (1 + Math.max(hi, 0)),
      high: (ms * scale) / (1 + Math.min(lo, 0)),
      lutSumMs: lutSum(this.tables, idx) * scale,
      calibrationMs: options.calibrationMs ?? this.data.calibrationMs,
      breakdown,
    };
  }

  /** Batched prediction of arch strings (ms at the reference calibration unless given). */
  predictBatch(archs: readonly string[], options: PredictOptions = {}): Float64Array {
    const out = this.predictIndices(archs.map((a) => choiceIndices(this.space, a)), options.kind ?? this.data.chosen);
    const scale = this.calibrationScale(options.calibrationMs);
    if (scale !== 1) for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) * scale;
    return out;
  }

  /** Batched prediction from candidate indices (the fast path). */
  predictIndices(batch: readonly Int32Array[], kind: PredictorKind): Float64Array {
    const out = new Float64Array(batch.length);
    const t = this.tables;
    switch (kind) {
      case 'lut-sum':
        for (let i = 0; i < batch.length; i++) out[i] = lutSum(t, batch[i] as Int32Array);
        return out;
      case 'composite': {
        const c = this.data.correction;
        // fold the feature scales into the weights once: ŷ = bias' + Σ w'_d f_d
        const w = c.kernel.map((k, d) => (k * c.yScale) / (c.scale[d] as number));
        const b = c.bias * c.yScale;
        const f = new Float64Array(t.featureNames.length);
        for (let i = 0; i < batch.length; i++) {
          networkFeatures(t, batch[i] as Int32Array, f);
          let y = b;
          for (let d = 0; d < f.length; d++) y += (w[d] as number) * (f[d] as number);
          out[i] = y;
        }
        if (this.residualModel && this.data.residual) {
          const r = predictRows(this.residualModel, oneHotBatch(this.layout, batch), batch.length, this.layout.width);
          for (let i = 0; i < batch.length; i++) out[i] = (out[i] as number) * (1 + (r[i] as number));
        }
        return out;
      }
      case 'encoding-mlp': {
        const enc = this.data.encoding;
        if (!enc || !this.encodingModel) throw new RangeError(`this predictor has no 'encoding-mlp' model`);
        const y = predictRows(this.encodingModel, oneHotBatch(this.layout, batch), batch.length, enc.inputs);
        for (let i = 0; i < batch.length; i++) out[i] = (y[i] as number) * enc.yScale;
        return out;
      }
    }
  }

  private calibrationScale(current: number | undefined): number {
    if (current === undefined) return 1;
    if (!(current > 0)) throw new RangeError(`'calibrationMs' must be > 0, got ${current}`);
    return this.data.calibrationMs ? current / this.data.calibrationMs : 1;
  }
}

/** A unit's cost from the stored LUT, else the per-kernel regressor; never silently zero. */
export function unitCost(data: Pick<PredictorData, 'lut' | 'kernels'>, spec: OpSpec, key: string): UnitCost {
  const hit = data.lut[key];
  if (hit !== undefined) return { key, ms: hit, source: 'lut' };
  const ms = predictKernel(data.kernels, spec);
  if (ms === undefined) throw new RangeError(`no LUT entry and no regressor for '${key}'`);
  return { key, ms, source: 'regressor' };
}
