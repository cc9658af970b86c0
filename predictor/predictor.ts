import { getSpace, type OpSpec, type SearchSpace } from '../ops-library/index.ts';
import { calibrationFactor } from '../conditions/index.ts';
import { rbfResidualAt } from './rbf-residual.ts';
import { predictKernel } from './kernels.ts';
import { predictRows } from './regressors.ts';
import { choiceIndex, oneHotBatch, type ChoiceIndex } from './choices.ts';
import { architectureUnits, buildSpaceTables, lutSum, networkFeatures, type SpaceTables, type UnitCost } from './tables.ts';
import type { tf } from './tf.ts';
import { PREDICTOR_KINDS, type BreakdownRow, type Prediction, type PredictorData, type PredictorKind } from './types.ts';

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
  private readonly layout: ChoiceIndex;

  constructor(
    readonly data: PredictorData,
    readonly encodingModel: tf.LayersModel | null,
    readonly residualModel: tf.LayersModel | null = null,
  ) {
    this.space = getSpace(data.space);
    this.tables = buildSpaceTables(this.space, (spec, key) => unitCost(data, spec, key));
    this.layout = choiceIndex(this.space);
    // the linear correction folded into per-candidate scores: ŷ = s0 + Σ_p s[p][choice]
    const c = data.correction;
    this.weights = c.kernel.map((k, d) => (k * c.yScale) / (c.scale[d] as number));
    this.bias = c.bias * c.yScale;
    const dot = (v: Float64Array, w: readonly number[] = this.weights) => v.reduce((a, x, d) => a + x * (w[d] as number), 0);
    this.fixedScore = this.bias + dot(this.tables.fixedFeatures);
    this.choiceScores = this.tables.choiceFeatures.map((cs) => Float64Array.from(cs.map((v) => dot(v))));
    // the condition part (types.ts LinearCorrection.condition), folded the same way
    const cond = c.condition;
    this.conditionWeights = cond ? cond.kernel.map((k, d) => (k * c.yScale) / (c.scale[d] as number)) : null;
    const cw = this.conditionWeights;
    this.conditionFixed = cw ? dot(this.tables.fixedFeatures, cw) : 0;
    this.conditionChoices = cw ? this.tables.choiceFeatures.map((cs) => Float64Array.from(cs.map((v) => dot(v, cw)))) : [];
  }

  private readonly weights: number[];
  private readonly conditionWeights: number[] | null;
  private readonly conditionFixed: number;
  private readonly conditionChoices: Float64Array[];
  private readonly bias: number;
  private readonly fixedScore: number;
  private readonly choiceScores: Float64Array[];

  /**
   * Candidate indices of an arch string: the space's parser (its errors name the problem), with
   * one Map lookup per position instead of a search.
   */
  indices(arch: string): Int32Array {
    return this.layout.indices(arch);
  }

  get deviceId(): string {
    return this.data.deviceId;
  }

  /** Predicts one architecture, with its uncertainty band and per-layer breakdown. */
  predict(arch: string, options: PredictOptions = {}): Prediction {
    const kind = options.kind ?? this.data.chosen;
    const idx = this.indices(arch);
    const ms = this.predictIndices([idx], kind, { conditions: [this.condition(options.calibrationMs)] })[0] as number;
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
    const batch = archs.map((a) => this.indices(a));
    const x = this.condition(options.calibrationMs);
    const out = this.predictIndices(batch, options.kind ?? this.data.chosen, x === 0 ? {} : { conditions: new Float64Array(batch.length).fill(x) });
    const scale = this.calibrationScale(options.calibrationMs);
    if (scale !== 1) for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) * scale;
    return out;
  }

  /**
   * The condition a calibration figure puts a prediction in: log(calibration / reference), clamped
   * to the range the condition weights were trained on; 0 (the reference) when unknown or when the
   * predictor has no condition part.
   */
  condition(calibrationMs: number | null | undefined): number {
    const cond = this.data.correction.condition;
    const ref = this.data.calibrationMs;
    if (!cond || !ref || !calibrationMs || !(calibrationMs > 0)) return 0;
    return Math.min(cond.max, Math.max(cond.min, Math.log(calibrationMs / ref)));
  }

  /**
   * Batched prediction from candidate indices (the fast path), at the reference calibration, or per
   * row at `conditions` (this.condition of each row's calibration; the composite only).
   */
  predictIndices(batch: readonly Int32Array[], kind: PredictorKind, o: { conditions?: ArrayLike<number> } = {}): Float64Array {
    const out = new Float64Array(batch.length);
    const t = this.tables;
    const cond = this.conditionWeights && o.conditions ? o.conditions : null;
    switch (kind) {
      case 'lut-sum':
        for (let i = 0; i < batch.length; i++) out[i] = lutSum(t, batch[i] as Int32Array);
        return out;
      case 'composite': {
        const floor = this.data.correction.floorMs ?? 0;
        if (this.space.additive) {
          for (let i = 0; i < batch.length; i++) {
            const idx = batch[i] as Int32Array;
            let y = this.fixedScore;
            for (let p = 0; p < idx.length; p++) y += (this.choiceScores[p] as Float64Array)[idx[p] as number] as number;
            const x = cond ? (cond[i] as number) : 0;
            if (x !== 0) {
              let z = this.conditionFixed;
              for (let p = 0; p < idx.length; p++) z += (this.conditionChoices[p] as Float64Array)[idx[p] as number] as number;
              y += x * z;
            }
            out[i] = y;
          }
        } else {
          const f = new Float64Array(t.featureNames.length);
          for (let i = 0; i < batch.length; i++) {
            networkFeatures(t, batch[i] as Int32Array, f);
            let y = this.bias;
            for (let d = 0; d < f.length; d++) y += (this.weights[d] as number) * (f[d] as number);
            const x = cond ? (cond[i] as number) : 0;
            const cw = this.conditionWeights;
            if (x !== 0 && cw) for (let d = 0; d < f.length; d++) y += x * (cw[d] as number) * (f[d] as number);
            out[i] = y;
          }
        }
        if (this.residualModel && this.data.residual) {
          const r = predictRows(this.residualModel, oneHotBatch(this.layout, batch), batch.length, this.layout.width);
          // the residual corrects by a factor; it may not cancel the prediction
          for (let i = 0; i < batch.length; i++) out[i] = (out[i] as number) * Math.max(0.1, 1 + (r[i] as number));
        }
        const kr = this.data.kernelResidual;
        if (kr) for (let i = 0; i < batch.length; i++) out[i] = (out[i] as number) * Math.exp(rbfResidualAt(kr, batch[i] as Int32Array));
        for (let i = 0; i < batch.length; i++) out[i] = Math.max(floor, out[i] as number);
        return out;
      }
      case 'encoding-mlp': {
        const enc = this.data.encoding;
        if (!enc || !this.encodingModel) throw new RangeError(`this predictor has no 'encoding-mlp' model`);
        const y = predictRows(this.encodingModel, oneHotBatch(this.layout, batch), batch.length, enc.inputs);
        for (let i = 0; i < batch.length; i++) out[i] = Math.max(this.data.correction.floorMs ?? 0, (y[i] as number) * enc.yScale);
        return out;
      }
      default:
        throw new RangeError(`unknown predictor kind '${String(kind)}'; known: ${PREDICTOR_KINDS.join(', ')}`);
    }
  }

  /**
   * The factor from a prediction at the reference calibration to one at calibration `current`:
   * (current / reference)^β with the learned elasticity β (1 when none was learned).
   */
  calibrationScale(current: number | null | undefined): number {
    return calibrationFactor({ current, reference: this.data.calibrationMs, elasticity: this.data.calibrationElasticity ?? 1 });
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
