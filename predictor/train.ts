import { spaceUnits, type OpSpec, type SearchSpace } from '../ops-library/index.ts';
import { trainKernelModels } from './kernels.ts';
import { accuracy, type AccuracyMetrics } from './metrics.ts';
import { LatencyPredictor, unitCost } from './predictor.ts';
import { fitRegressor, makeRegressor } from './regressors.ts';
import { relativeRidge } from './ridge.ts';
import { calibrationSlope } from '../conditions/index.ts';
import { fitRbfResidual, rbfResidualAt, RBF_RESIDUAL_GRID, RBF_RESIDUAL_MAX_SUPPORT, type RbfResidual } from './rbf-residual.ts';
import { inHoldout } from './split.ts';
import { choiceIndices, oneHotBatch, oneHotLayout } from './choices.ts';
import { buildSpaceTables, networkFeatures } from './tables.ts';
import { initTf, tf } from './tf.ts';
import { quantile } from 'simple-statistics';
import { PREDICTOR_KINDS, type LinearCorrection, type NetworkSample, type PredictorData, type PredictorKind } from './types.ts';

export interface TrainOptions {
  deviceId: string;
  space: SearchSpace;
  /** the reference calibration every latency here is normalised to (null: none measured) */
  calibrationMs: number | null;
  calibrationKey?: string | null;
  /** LUT means per unit key, ms, normalised to `calibrationMs` */
  lutMs: ReadonlyMap<string, number>;
  /** specs of the LUT's keys, for the per-kernel regressor (default: the space's units) */
  lutSpecs?: ReadonlyMap<string, OpSpec>;
  /** network measurements, ms normalised to `calibrationMs` */
  networks: readonly NetworkSample[];
  /**
   * the elasticity of the space's anchor network (dataset.ts anchorFit): given, β is this instead
   * of being learned from the residuals, and anchor-normalised samples count as at the reference
   */
  anchorElasticity?: number;
  /** share of architectures held out to choose the predictor and size its band (default 0.2) */
  validationShare?: number;
  /** train the encoding→MLP baseline too (default true) */
  encodingBaseline?: boolean;
  epochs?: number;
  /** L2 penalty of the network-level correction (default 1e-4) */
  l2?: number;
  onProgress?: (stage: string, done: number, total: number) => void;
}

/**
 * Trains a device's predictors for one space from its LUT and network measurements, validates
 * the three kinds on held-out architectures, and keeps the best as the default.
 *
 * @example
 * const p = await trainPredictor({ deviceId, space: getSpace('fbnet'), calibrationMs: 1.1, lutMs, networks });
 * p.predict(arch).ms
 */
export async function trainPredictor(o: TrainOptions): Promise<LatencyPredictor> {
  const t0 = performance.now();
  await initTf();
  const progress = o.onProgress ?? (() => {});
  const space = o.space;
  const lut: Record<string, number> = Object.fromEntries(o.lutMs);
  const specs = o.lutSpecs ?? spaceUnits(space);
  progress('kernel regressors', 0, 3);
  const kernels = await trainKernelModels([...o.lutMs].flatMap(([key, ms]) => {
    const spec = specs.get(key);
    return spec ? [{ spec, ms }] : [];
  }));
  const tables = buildSpaceTables(space, (spec, key) => unitCost({ lut, kernels }, spec, key));
  const regressorUnits = new Set([...tables.fixed, ...tables.choices.flat(2), ...space.structuralUnits.map(tables.cost)].filter((u) => u.source === 'regressor').map((u) => u.key)).size;

  const ref = o.calibrationMs;
  // x = log(own calibration / reference): 0 where either is unknown (no elasticity to learn)
  // (an anchor-normalised sample is at the reference already)
  const logCal = (n: NetworkSample) => (!n.anchorMs && ref && n.calibrationMs && n.calibrationMs > 0 ? Math.log(n.calibrationMs / ref) : 0);
  if (o.anchorElasticity !== undefined && !(Number.isFinite(o.anchorElasticity) && o.anchorElasticity >= 0)) {
    throw new RangeError(`'anchorElasticity' must be a finite number >= 0, got ${o.anchorElasticity}`);
  }
  const measuredRows = o.networks.filter((n) => n.ms > 0).map((n) => ({ ...n, idx: choiceIndices(space, n.arch), x: logCal(n) }));
  const share = o.validationShare ?? 0.2;
  let validRows = measuredRows.filter((r) => inHoldout(r.arch, share));
  let trainRows = measuredRows.filter((r) => !inHoldout(r.arch, share));
  if (trainRows.length < 3 || validRows.length < 2) {
    // too few networks to hold some out: validate on the training set (reported as such)
    trainRows = measuredRows;
    validRows = measuredRows;
  }
  if (trainRows.length < 2) throw new RangeError(`training needs at least 2 network measurements of '${space.name}', got ${trainRows.length}`);

  // network-level correction: linear in the additive features, relative-error loss
  progress('network correction', 1, 3);
  const D = tables.featureNames.length;
  const feats = trainRows.map((r) => Array.from(networkFeatures(tables, r.idx)));
  const scale = new Array<number>(D).fill(1e-9);
  for (const f of feats) for (let d = 0; d < D; d++) scale[d] = Math.max(scale[d] as number, Math.abs(f[d] as number));
  const xs = feats.map((f) => f.map((v, d) => v / (scale[d] as number)));
  // each training network's condition: log(its group's calibration / reference), anchored or not
  const conditionOf = (n: NetworkSample) => (ref && n.calibrationMs && n.calibrationMs > 0 ? Math.log(n.calibrationMs / ref) : 0);
  const xc = trainRows.map(conditionOf);
  const fitCorrection = (ms: readonly number[], withCondition = false): LinearCorrection => {
    const yScale = quantile([...ms], 0.5);
    // prior: prediction = LUT sum; the ridge shrinks every other weight toward 0
    const prior = Array.from({ length: withCondition ? 2 * D : D }, (_, d) => (d === 0 ? (scale[0] as number) / yScale : 0));
    const x = withCondition ? xs.map((f, i) => [...f, ...f.map((v) => v * (xc[i] as number))]) : xs;
    const fit = relativeRidge({ x, y: ms.map((v) => v / yScale), prior, lambda: o.l2 ?? 1e-4 });
    return {
      featureNames: tables.featureNames, scale, yScale, kernel: fit.kernel.slice(0, D), bias: fit.bias, floorMs: 0.5 * ms.reduce((m, v) => Math.min(m, v), Infinity),
      ...(withCondition ? { condition: { kernel: fit.kernel.slice(D), min: Math.min(...xc), max: Math.max(...xc) } } : {}),
    };
  };
  const linear = (c: LinearCorrection, i: number) => c.yScale * ((xs[i] as number[]).reduce((a, v, d) => a + v * (c.kernel[d] as number), c.bias));
  // calibration elasticity (elasticity.ts): fit the correction, regress its log residuals on
  // log(cal/ref), re-express the latencies at β and refit; three rounds converge (β moves < 1e-3).
  // With anchors β is the anchor's, measured directly against the calibration (dataset.ts).
  let slope = o.anchorElasticity !== undefined ? o.anchorElasticity - 1 : 0;
  const at = (r: { ms: number; x: number }, s: number) => r.ms * Math.exp(-s * r.x);
  let correction = fitCorrection(trainRows.map((r) => at(r, slope)));
  for (let round = 0; round < (o.anchorElasticity !== undefined ? 0 : 3); round++) {
    const res = trainRows.map((r, i) => Math.log(at(r, slope) / Math.max(linear(correction, i), 1e-9)));
    const step = calibrationSlope(trainRows.map((r) => r.x), res);
    if (step === 0) break;
    slope = Math.max(-1, Math.min(1, slope + step));
    correction = fitCorrection(trainRows.map((r) => at(r, slope)));
  }
  // from here on every latency is expressed at the reference calibration under β = 1 + slope
  const train = trainRows.map((r) => ({ ...r, ms: at(r, slope) }));
  const valid = validRows === trainRows ? train : validRows.map((r) => ({ ...r, ms: at(r, slope) }));
  const yScale = correction.yScale;
  // what the optional corrections below must lower to be kept: mean relative error on validation
  const validationError = (pred: ArrayLike<number>) => valid.reduce((a, r, i) => a + Math.abs((pred[i] as number) / r.ms - 1), 0) / valid.length;

  // the LA-DARTS-style baseline: one-hot architecture encoding → MLP
  let encodingModel: tf.LayersModel | null = null;
  let encoding: PredictorData['encoding'] = null;
  if ((o.encodingBaseline ?? true) && space.positions.length > 0) {
    progress('encoding MLP', 2, 3);
    const inputs = space.positions.reduce((a, p) => a + p.choices.length, 0);
    encoding = { inputs, hidden: [64, 64], yScale };
    encodingModel = makeRegressor({ inputs, hidden: encoding.hidden });
    const x = rowsOf(oneHotBatch(oneHotLayout(space), train.map((r) => r.idx)), inputs);
    await fitRegressor(encodingModel, x, train.map((r) => r.ms / yScale), { ...stepBudget(train.length, o.epochs), loss: 'relative', learningRate: 0.003 });
  }

  const data: PredictorData = {
    format: 'hwlat-predictor/1',
    deviceId: o.deviceId,
    space: space.name,
    createdAt: new Date().toISOString(),
    calibrationMs: o.calibrationMs,
    calibrationElasticity: 1 + slope,
    calibrationKey: o.calibrationKey ?? null,
    lut,
    kernels,
    correction,
    encoding,
    residual: null,
    kernelResidual: null,
    chosen: 'composite',
    bands: { 'lut-sum': [0, 0], composite: [0, 0], 'encoding-mlp': [0, 0] },
    metrics: {},
    training: {
      networks: train.length,
      validation: valid === train ? 0 : valid.length,
      passes: [...new Set(o.networks.map((n) => n.passId))],
      lutEntries: o.lutMs.size,
      regressorUnits,
      seconds: 0,
    },
  };
  let predictor = new LatencyPredictor(data, encodingModel);

  // kernels slow unevenly with the machine: the condition part, kept only if it helps on validation
  // (it needs groups at different speeds: at least 8 distinct calibration figures in training)
  const validConditions = () => valid.map((r) => predictor.condition(r.calibrationMs));
  const trainConditions = () => train.map((r) => predictor.condition(r.calibrationMs));
  if (valid !== train && new Set(xc.filter((v) => v !== 0)).size >= 8) {
    const relErr = (p: LatencyPredictor) => validationError(p.predictIndices(valid.map((r) => r.idx), 'composite', { conditions: valid.map((r) => p.condition(r.calibrationMs)) }));
    const withCondition = new LatencyPredictor({ ...data, correction: fitCorrection(train.map((r) => r.ms), true) }, encodingModel);
    // by a clear margin: on networks that all slow alike it only fits noise
    if (relErr(withCondition) < 0.95 * relErr(predictor)) {
      data.correction = withCondition.data.correction;
      predictor = withCondition;
    }
  }

  // the composite's residual MLP on the one-hot encoding, kept only if it helps on validation
  if (space.positions.length > 0 && train.length >= 20) {
    const layout = oneHotLayout(space);
    const linTrain = predictor.predictIndices(train.map((r) => r.idx), 'composite', { conditions: trainConditions() });
    const residualSpec = { inputs: layout.width, hidden: [32] };
    const residual = makeRegressor({ ...residualSpec, l2: 1e-3 });
    await fitRegressor(residual, rowsOf(oneHotBatch(layout, train.map((r) => r.idx)), layout.width), train.map((r, i) => r.ms / (linTrain[i] as number) - 1), {
      ...stepBudget(train.length, o.epochs), loss: 'mse', learningRate: 0.003,
    });
    const withResidual = new LatencyPredictor({ ...data, residual: residualSpec }, encodingModel, residual);
    const relErr = (p: LatencyPredictor) => validationError(p.predictIndices(valid.map((r) => r.idx), 'composite', { conditions: validConditions() }));
    if (relErr(withResidual) < relErr(predictor)) {
      data.residual = residualSpec;
      predictor = withResidual;
    } else residual.dispose();
  }

  // non-additive spaces: the RBF correction over the choices, kept only if it helps on validation
  if (!space.additive && space.positions.length > 0 && train.length >= 20 && valid !== train) {
    // the solve is cubic in the support: an evenly spaced subset of a large training set
    const step = Math.max(1, train.length / RBF_RESIDUAL_MAX_SUPPORT);
    const support = Array.from({ length: Math.min(train.length, RBF_RESIDUAL_MAX_SUPPORT) }, (_, i) => train[Math.floor(i * step)] as (typeof train)[number]);
    const base = predictor.predictIndices(support.map((r) => r.idx), 'composite', { conditions: support.map((r) => predictor.condition(r.calibrationMs)) });
    const logResidual = support.map((r, i) => Math.log(r.ms / (base[i] as number)));
    const baseValid = predictor.predictIndices(valid.map((r) => r.idx), 'composite', { conditions: validConditions() });
    let best: { err: number; k: RbfResidual | null } = { err: validationError(baseValid), k: null };
    for (const [gamma, lambda] of RBF_RESIDUAL_GRID) {
      const k = fitRbfResidual({ codes: support.map((r) => r.idx), choices: space.positions.map((pos) => pos.choices.length), logResidual, gamma, lambda });
      const e = validationError(valid.map((r, i) => (baseValid[i] as number) * Math.exp(rbfResidualAt(k, r.idx))));
      if (e < best.err) best = { err: e, k };
    }
    if (best.k) {
      data.kernelResidual = best.k;
      predictor = new LatencyPredictor(data, encodingModel, predictor.residualModel);
    }
  }

  // validate every kind on the held-out architectures; the best becomes the default
  const measured = valid.map((r) => r.ms);
  let best: PredictorKind = 'lut-sum';
  let bestScore = -Infinity;
  for (const kind of PREDICTOR_KINDS) {
    if (kind === 'encoding-mlp' && !encoding) continue;
    const pred = Array.from(predictor.predictIndices(valid.map((r) => r.idx), kind, { conditions: validConditions() }));
    const m: AccuracyMetrics | null = measured.length >= 2 ? accuracy(pred, measured) : null;
    if (m) data.metrics[kind] = m;
    const rel = pred.map((p, i) => (p - (measured[i] as number)) / (measured[i] as number));
    data.bands[kind] = rel.length > 0 ? [quantile(rel, 0.1), quantile(rel, 0.9)] : [0, 0];
    const score = m ? m.within10 - m.mape : 0;
    if (score > bestScore) {
      bestScore = score;
      best = kind;
    }
  }
  data.chosen = best;
  data.training.seconds = (performance.now() - t0) / 1000;
  progress('done', 3, 3);
  return predictor;
}

/**
 * Mini-batches of 256 and a bounded number of gradient steps, so training time does not grow
 * with the number of networks (100,000 networks train in seconds, not hours).
 */
function stepBudget(n: number, epochs?: number): { epochs: number; batchSize: number } {
  const batchSize = Math.min(256, n);
  const stepsPerEpoch = Math.ceil(n / batchSize);
  return { batchSize, epochs: epochs ?? Math.max(5, Math.min(1500, Math.ceil(3000 / stepsPerEpoch))) };
}

function rowsOf(flat: Float32Array, width: number): number[][] {
  const rows: number[][] = [];
  for (let i = 0; i < flat.length; i += width) rows.push(Array.from(flat.subarray(i, i + width)));
  return rows;
}

/**
 * A predictor from a LUT alone (no network measurements yet, or an imported ProxylessNAS/FBNet
 * LUT): the LUT sum, with the per-kernel regressor for missing keys. Its correction is the identity.
 */
export async function buildLutPredictor(o: Omit<TrainOptions, 'networks'>): Promise<LatencyPredictor> {
  await initTf();
  const lut: Record<string, number> = Object.fromEntries(o.lutMs);
  const specs = o.lutSpecs ?? spaceUnits(o.space);
  const kernels = await trainKernelModels([...o.lutMs].flatMap(([key, ms]) => {
    const spec = specs.get(key);
    return spec ? [{ spec, ms }] : [];
  }));
  const tables = buildSpaceTables(o.space, (spec, key) => unitCost({ lut, kernels }, spec, key));
  const D = tables.featureNames.length;
  const regressorUnits = new Set([...tables.fixed, ...tables.choices.flat(2), ...o.space.structuralUnits.map(tables.cost)].filter((u) => u.source === 'regressor').map((u) => u.key)).size;
  const data: PredictorData = {
    format: 'hwlat-predictor/1',
    deviceId: o.deviceId,
    space: o.space.name,
    createdAt: new Date().toISOString(),
    calibrationMs: o.calibrationMs,
    calibrationKey: o.calibrationKey ?? null,
    lut,
    kernels,
    correction: { featureNames: tables.featureNames, scale: new Array(D).fill(1), yScale: 1, kernel: Array.from({ length: D }, (_, d) => (d === 0 ? 1 : 0)), bias: 0, floorMs: 0 },
    encoding: null,
    residual: null,
    chosen: 'lut-sum',
    bands: { 'lut-sum': [0, 0], composite: [0, 0], 'encoding-mlp': [0, 0] },
    metrics: {},
    training: { networks: 0, validation: 0, passes: [], lutEntries: o.lutMs.size, regressorUnits, seconds: 0 },
  };
  return new LatencyPredictor(data, null);
}
