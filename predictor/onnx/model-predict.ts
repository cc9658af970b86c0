import { importOnnx, type ImportOptions } from '../../ops-library/onnx/import/index.ts';
import { kernels as detectKernels, RULE_SETS } from '../../ops-library/kernels/index.ts';
import { kernelMacs } from '../../ops-library/kernels/features.ts';
import type { KernelContext, KernelCost, KernelModel } from '../kernel-model/index.ts';

/** A kernel no regressor of its own type or op family answers for: priced by the all-kernels fallback. */
export interface UnmappedKernel {
  op: string;
  nodes: readonly string[];
  /** its share of the model's multiply-accumulates (0–1) */
  macsShare: number;
  ms: number;
}

/** Any ONNX model's predicted latency on a device, kernel by kernel. */
export interface OnnxModelPrediction {
  /** Σ kernels + the device's per-run overhead, ms */
  ms: number;
  kernelSumMs: number;
  overheadMs: number;
  /** the runtime rule set whose kernels were predicted ('ort-cpu', 'ort-wasm') */
  runtime: string;
  kernels: KernelCost[];
  /** kernels only the all-kernels fallback could price (empty when every one was mapped) */
  unmapped: UnmappedKernel[];
  /** how the device's campaign samples were carried into networks when its kernel model was trained */
  context: KernelContext;
}

/** `--strict` and an unmapped kernel: names every one. */
export class UnmappedKernelsError extends RangeError {
  override readonly name = 'UnmappedKernelsError';
  constructor(readonly unmapped: readonly UnmappedKernel[]) {
    super(
      `${unmapped.length} kernel${unmapped.length > 1 ? 's' : ''} of types the device never timed (${(100 * unmapped.reduce((a, u) => a + u.macsShare, 0)).toFixed(1)}% of the MACs): ` +
        unmapped.slice(0, 5).map((u) => `${u.op} (${u.nodes.slice(0, 2).join(', ')})`).join('; ') + (unmapped.length > 5 ? `; … ${unmapped.length} in all` : ''),
    );
  }
}

/** The rule set of a device's runtime: onnxruntime's CPU provider, or its wasm build. */
export function runtimeRuleSet(runtime: { backend: string; provider: string }): string {
  if (runtime.backend === 'ort-node' && runtime.provider === 'cpu') return 'ort-cpu';
  if (runtime.backend === 'ort-web' && runtime.provider === 'wasm') return 'ort-wasm';
  throw new RangeError(`no kernel rule set for runtime '${runtime.backend}:${runtime.provider}' yet; known: ${Object.keys(RULE_SETS).join(', ')} (ort-node:cpu, ort-web:wasm)`);
}

export interface OnnxModelPredictOptions extends ImportOptions {
  /** the runtime rule set (runtimeRuleSet of the device) */
  runtime: string;
  /** fail on kernels only the all-kernels fallback can price, instead of listing them */
  strict?: boolean;
}

/**
 * Predicts any ONNX model on a device: import (constant folding, shape inference), kernel detection
 * by the device runtime's rule set, each kernel from the device's kernel model (its exact timing
 * in context, else its type's regressor), summed with the device's per-run overhead. A kernel no
 * regressor of its type or op family knows is priced by the all-kernels fallback and listed in
 * `unmapped` with its share of the MACs (`strict`: an UnmappedKernelsError).
 *
 * @example
 * const model = await deviceKernelModel(store, deviceId);
 * predictOnnxModel(readFileSync('resnet18.onnx'), model, { runtime: 'ort-cpu' }).ms;
 */
export function predictOnnxModel(bytes: Uint8Array, model: KernelModel, options: OnnxModelPredictOptions): OnnxModelPrediction {
  const { runtime, strict, ...importOptions } = options;
  const ks = detectKernels(importOnnx(bytes, importOptions), runtime);
  const p = model.predict(ks);
  const totalMacs = ks.reduce((a, k) => a + kernelMacs(k), 0) || 1;
  const unmapped = p.kernels.flatMap((c, i) =>
    c.source === 'fallback' && c.model === 'any' ? [{ op: c.op, nodes: c.nodes, macsShare: kernelMacs(ks[i]!) / totalMacs, ms: c.ms }] : [],
  );
  if (strict && unmapped.length > 0) throw new UnmappedKernelsError(unmapped);
  return { ms: p.ms, kernelSumMs: p.kernelSumMs, overheadMs: p.overheadMs, runtime, kernels: p.kernels, unmapped, context: model.context };
}
