import { RandomForestRegression } from 'ml-random-forest';
import { KernelRegressorFormatError } from './errors.ts';
import { fitLogLinear, kernelPowerLaw, LogLinear } from './log-linear.ts';
import type { KernelRegressor, KernelRegressorKind } from './types.ts';

interface ForestJson {
  kind: 'random-forest';
  base: ReturnType<LogLinear['toJSON']>;
  forest: unknown;
}

/**
 * A random forest on the residuals of a log-linear fit in the size features: the power law carries
 * a kernel to sizes the device never ran (a forest alone predicts the largest training kernel's time for anything
 * bigger), the forest the shape effects the power law misses (cache sizes, vector widths, blocks).
 */
export class ResidualForest implements KernelRegressor {
  readonly kind = 'random-forest';
  constructor(readonly base: LogLinear, readonly forest: RandomForestRegression) {}

  predict(x: readonly (readonly number[])[]): number[] {
    const rows = x.map((r) => [...r]);
    const base = this.base.predict(rows);
    const res = this.forest.predict(rows);
    return base.map((b, i) => b + (res[i] as number));
  }

  toJSON(): ForestJson {
    return { kind: 'random-forest', base: this.base.toJSON(), forest: this.forest.toJSON() };
  }
}

/**
 * ml-random-forest's trees cost about n² per tree (1,600 rows × 60 trees: 73 s here), so a forest
 * sees at most this many rows, every k-th of the type's kernels in the order they came (profiles
 * in turn, so every profiled model keeps its share); the power law sees them all.
 */
const MAX_FOREST_ROWS = 300;
const TREES = 30;

export const randomForestKind: KernelRegressorKind = {
  name: 'random-forest',
  description: `log-linear power law plus a random forest (ml-random-forest, ${TREES} trees, ≤ ${MAX_FOREST_ROWS} rows) on its residuals`,
  fit(x, y, options = {}) {
    const all = x.map((r) => [...r]);
    const base = fitLogLinear(all, y, kernelPowerLaw(all[0]?.length ?? 0));
    const fitted = base.predict(all);
    const step = Math.max(1, all.length / MAX_FOREST_ROWS);
    const pick = Array.from({ length: Math.min(all.length, MAX_FOREST_ROWS) }, (_, i) => Math.floor(i * step));
    const rows = pick.map((i) => all[i] as number[]);
    const residuals = pick.map((i) => (y[i] as number) - (fitted[i] as number));
    const forest = new RandomForestRegression({
      nEstimators: TREES,
      maxFeatures: 0.8,
      replacement: true,
      useSampleBagging: true,
      seed: options.seed ?? 7,
      noOOB: true,
      treeOptions: { minNumSamples: 3, maxDepth: 8 },
    });
    forest.train(rows, residuals);
    return new ResidualForest(base, forest);
  },
  load(json) {
    const j = json as Partial<ForestJson> | null;
    if (!j || j.kind !== 'random-forest' || !j.base || !j.forest) {
      throw new KernelRegressorFormatError(`a random-forest regressor must be { kind: 'random-forest', base, forest }`);
    }
    const base = fitLogLinearFromJson(j.base);
    return new ResidualForest(base, RandomForestRegression.load(j.forest as Parameters<typeof RandomForestRegression.load>[0]));
  },
};

function fitLogLinearFromJson(json: unknown): LogLinear {
  const j = json as { weights?: unknown; bias?: unknown };
  if (!Array.isArray(j.weights) || typeof j.bias !== 'number') throw new KernelRegressorFormatError(`a random-forest regressor's base must be a log-linear regressor`);
  return new LogLinear(j.weights as number[], j.bias);
}
