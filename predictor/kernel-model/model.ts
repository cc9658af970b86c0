import { KERNEL_FEATURE_NAMES, baseOp, kernelFeatures, kernelType } from '../../ops-library/kernels/features.ts';
import type { RuntimeKernel } from '../../ops-library/kernels/types.ts';
import { kernelRegressorKind, type KernelRegressor } from '../kernel-regressors/index.ts';
import type { KernelContext } from './context.ts';
import type { KernelCost, KernelModelPrediction } from './types.ts';

/** The saved form of a device's kernel model (JSON). */
export interface KernelModelJson {
  format: 'hwlat-kernel-model';
  version: 1;
  featureNames: readonly string[];
  /** regressors by name: kernel types, op families ('Conv'), and 'any' */
  regressors: Record<string, { kind: string; trainedOn: number; model: unknown }>;
  /** kernel key → median ms of the kernels timed in context with exactly that type and features */
  measured: Record<string, number>;
  /** per-run overhead: a + b · kernels */
  overhead: { a: number; b: number; fittedOn: number };
  /** how campaign samples were carried into networks (absent in models saved before it existed: none) */
  context?: KernelContext;
}

export const logFeatures = (k: RuntimeKernel): number[] => kernelFeatures(k).map((v) => Math.log1p(Math.max(0, v)));

/** the measured-table key of a kernel: its type and its features, exactly */
export const kernelKey = (k: RuntimeKernel): string => `${kernelType(k)}|${kernelFeatures(k).join(',')}`;

/**
 * A device's model of the kernels its runtime executes: per kernel type a regressor (its kind from
 * the registry), the exact kernels it has timed, and the overhead a run adds to Σ kernels.
 */
export class KernelModel {
  private readonly regressors = new Map<string, { model: KernelRegressor; trainedOn: number }>();

  constructor(private readonly data: KernelModelJson) {
    if (data.format !== 'hwlat-kernel-model' || data.version !== 1) {
      throw new RangeError(`not an hwlat kernel model of version 1 (format '${String(data.format)}', version ${String(data.version)})`);
    }
    if (data.featureNames.join(',') !== KERNEL_FEATURE_NAMES.join(',')) {
      throw new RangeError(`the kernel model was trained on features [${data.featureNames.join(', ')}], this version computes [${KERNEL_FEATURE_NAMES.join(', ')}]`);
    }
    for (const [name, r] of Object.entries(data.regressors)) this.regressors.set(name, { model: kernelRegressorKind(r.kind).load(r.model), trainedOn: r.trainedOn });
  }

  get overhead(): KernelModelJson['overhead'] {
    return this.data.overhead;
  }

  get context(): KernelContext {
    return this.data.context ?? { mode: 'none', factors: {} };
  }

  /** the regressor names this model holds, with their sample counts */
  get types(): Record<string, number> {
    return Object.fromEntries([...this.regressors].map(([k, v]) => [k, v.trainedOn]));
  }

  /** One kernel's cost: measured when timed exactly so, else its type's regressor, else a fallback. */
  cost(k: RuntimeKernel): KernelCost {
    const type = kernelType(k);
    const base = { op: k.op, type, nodes: k.nodes };
    const hit = this.data.measured[kernelKey(k)];
    if (hit !== undefined) return { ...base, ms: hit, source: 'measured' };
    for (const [name, source] of [[type, 'regressor'], [k.op, 'fallback'], [baseOp(k.op), 'fallback'], ['any', 'fallback']] as const) {
      const r = this.regressors.get(name);
      if (r) return { ...base, ms: Math.exp(r.model.predict([logFeatures(k)])[0] as number), source, model: name };
    }
    throw new RangeError(`the kernel model has no regressor for '${type}' and no fallback ('any')`);
  }

  /**
   * A model's latency from the kernels its runtime executes (ops-library kernel detection):
   * Σ kernel costs plus the device's per-run overhead (a + b · kernels; never below zero).
   */
  predict(kernels: readonly RuntimeKernel[]): KernelModelPrediction {
    const costs = kernels.map((k) => this.cost(k));
    const kernelSumMs = costs.reduce((a, c) => a + c.ms, 0);
    const overheadMs = Math.max(-0.5 * kernelSumMs, this.data.overhead.a + this.data.overhead.b * kernels.length);
    return { ms: kernelSumMs + overheadMs, kernelSumMs, overheadMs, kernels: costs };
  }

  toJSON(): KernelModelJson {
    return this.data;
  }
}
