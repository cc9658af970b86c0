import { FEATURE_NAMES, featureVector, type OpSpec } from '../ops-library/index.ts';
import { fitRegressor, makeRegressor } from './regressors.ts';
import { initTf } from './tf.ts';

/** A per-kernel-type regressor's weights: log latency = bias + kernel · log1p(features). */
export interface KernelModel {
  op: string;
  kernel: number[];
  bias: number;
  trainedOn: number;
}

/** Per op type ('expanded_conv', 'fbnet_block', …) models; 'any' is the fallback across types. */
export interface KernelModels {
  featureNames: readonly string[];
  models: Record<string, KernelModel>;
}

const MIN_PER_TYPE = 6;

const logFeatures = (spec: OpSpec) => featureVector(spec).map((v) => Math.log1p(Math.max(0, v)));

/**
 * Trains the regressors that answer for layer keys the LUT lacks, from the LUT's own entries.
 * Linear in log space: latency scales as a power of MACs, memory and shape (ops-library's
 * features(), the one feature definition).
 */
export async function trainKernelModels(entries: ReadonlyArray<{ spec: OpSpec; ms: number }>): Promise<KernelModels> {
  await initTf();
  const usable = entries.filter((e) => e.ms > 0);
  const groups = new Map<string, typeof usable>();
  for (const e of usable) groups.set(e.spec.op, [...(groups.get(e.spec.op) ?? []), e]);
  const models: Record<string, KernelModel> = {};
  const fit = async (op: string, rows: typeof usable) => {
    const x = rows.map((r) => logFeatures(r.spec));
    const y = rows.map((r) => Math.log(r.ms));
    const model = makeRegressor({ inputs: FEATURE_NAMES.length, hidden: [] });
    await fitRegressor(model, x, y, { epochs: 300, loss: 'mse', learningRate: 0.05 });
    const [k, b] = model.getWeights();
    models[op] = { op, kernel: Array.from(k?.dataSync() ?? []), bias: (b?.dataSync()[0] as number) ?? 0, trainedOn: rows.length };
    model.dispose();
  };
  if (usable.length >= 2) await fit('any', usable);
  for (const [op, rows] of groups) if (rows.length >= MIN_PER_TYPE) await fit(op, rows);
  return { featureNames: FEATURE_NAMES, models };
}

/** Predicts one spec's latency (ms), or undefined when no model can answer. */
export function predictKernel(models: KernelModels, spec: OpSpec): number | undefined {
  const m = models.models[spec.op] ?? models.models.any;
  if (!m) return undefined;
  const x = logFeatures(spec);
  let z = m.bias;
  for (let i = 0; i < x.length; i++) z += (m.kernel[i] as number) * (x[i] as number);
  return Math.exp(z);
}
