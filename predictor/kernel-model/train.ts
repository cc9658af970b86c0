import { linearRegression } from 'simple-statistics';
import { KERNEL_FEATURE_NAMES, baseOp, kernelType } from '../../ops-library/kernels/features.ts';
import { kernelRegressorKind } from '../kernel-regressors/index.ts';
import { KernelModel, kernelKey, logFeatures, medians, type KernelModelJson } from './model.ts';
import type { KernelModelOptions, KernelTrainingProfile } from './types.ts';

/** a kernel timed at 0 (below the profiler's µs) counts as this, so its log is finite */
const FLOOR_MS = 1e-4;

/**
 * Trains a device's kernel model from kernels timed in context: whole networks run with the
 * runtime's profiler, and kernel-campaign samples. Every kernel type with `minPerType` kernels gets
 * a regressor of its own; each op family ('Conv' across its layouts and variants) and 'any' get
 * one as fallbacks. The overhead term is fitted on the profiles that carry a latency measured
 * without the profiler: measured − Σ kernels ≈ a + b · kernels.
 *
 * @example
 * const model = trainKernelModel(profiles, { kind: 'random-forest' });
 * model.predict(kernels(importOnnx(bytes), 'ort-cpu')).ms;
 */
export function trainKernelModel(profiles: readonly KernelTrainingProfile[], options: KernelModelOptions = {}): KernelModel {
  const kind = kernelRegressorKind(options.kind ?? 'random-forest');
  const minPerType = options.minPerType ?? 6;
  if (!Number.isInteger(minPerType) || minPerType < 2) throw new RangeError(`'minPerType' must be an integer >= 2, got ${minPerType}`);
  const all = profiles.flatMap((p) => p.kernels);
  if (all.length < 2) throw new RangeError(`'profiles' must hold at least 2 timed kernels, got ${all.length}`);

  const groups = new Map<string, { x: number[][]; y: number[] }>();
  const add = (name: string, x: number[], y: number) => {
    const g = groups.get(name) ?? { x: [], y: [] };
    g.x.push(x);
    g.y.push(y);
    groups.set(name, g);
  };
  const measured = new Map<string, number[]>();
  for (const k of all) {
    const x = logFeatures(k);
    const y = Math.log(Math.max(FLOOR_MS, k.ms));
    const type = kernelType(k);
    add(type, x, y);
    if (k.op !== type) add(k.op, x, y);
    if (baseOp(k.op) !== k.op) add(baseOp(k.op), x, y);
    add('any', x, y);
    const key = kernelKey(k);
    measured.set(key, [...(measured.get(key) ?? []), Math.max(FLOOR_MS, k.ms)]);
  }
  const regressors: KernelModelJson['regressors'] = {};
  for (const [name, g] of groups) {
    if (g.y.length < (name === 'any' ? 2 : minPerType)) continue;
    regressors[name] = { kind: kind.name, trainedOn: g.y.length, model: kind.fit(g.x, g.y, { seed: options.seed }).toJSON() };
  }

  // overhead: measured run − Σ kernels, against the number of kernels
  const pts = profiles
    .filter((p) => typeof p.measuredMs === 'number' && p.measuredMs > 0 && p.kernels.length > 0)
    .map((p) => [p.kernels.length, (p.measuredMs as number) - p.kernels.reduce((a, k) => a + k.ms, 0)] as [number, number]);
  let overhead = { a: 0, b: 0, fittedOn: pts.length };
  if (pts.length >= 3 && new Set(pts.map((p) => p[0])).size >= 2) {
    const { m, b } = linearRegression(pts);
    overhead = { a: b, b: m, fittedOn: pts.length };
  } else if (pts.length > 0) {
    overhead = { a: 0, b: pts.reduce((a, p) => a + p[1] / p[0], 0) / pts.length, fittedOn: pts.length };
  }
  return new KernelModel({ format: 'hwlat-kernel-model', version: 1, featureNames: [...KERNEL_FEATURE_NAMES], regressors, measured: medians(measured), overhead });
}
