import type { RuntimeInfo } from '../../protocol/index.ts';
import type { KernelProfiler } from '../kernel-profile.ts';
import { profileKernels } from './ort-kernels.ts';
import { profileKernelsWasm } from './ort-web-kernels.ts';

/** Profiled runs per kernel profile: enough for a stable median per kernel, short next to the measurement. */
export const KERNEL_PROFILE_RUNS = 20;
export const KERNEL_PROFILE_WARMUP = 3;

/**
 * The kernel profiler for a backend, with its provider and threads: onnxruntime-node (any
 * provider) or onnxruntime-web's wasm in Node. Null for what cannot be profiled here (WebGPU,
 * which runs only in a browser). Node only.
 *
 * @example
 * const profiler = kernelProfilerFor(backend.info);
 * const p = await profiler?.profile(bytes); // { runs: 20, runMs, kernelSumMs, kernels }
 */
export function kernelProfilerFor(info: RuntimeInfo, options: { runs?: number; warmup?: number } = {}): KernelProfiler | null {
  const runs = options.runs ?? KERNEL_PROFILE_RUNS;
  const warmup = options.warmup ?? KERNEL_PROFILE_WARMUP;
  const name = `${info.backend}:${info.provider}`;
  if (info.backend === 'ort-node') {
    return { name, profile: (model) => profileKernels(model, { provider: info.provider, threads: info.threads, runs, warmup }) };
  }
  if (info.backend === 'ort-web' && info.provider === 'wasm') {
    return { name, profile: (model) => profileKernelsWasm(model, { threads: info.threads, runs, warmup }) };
  }
  return null;
}
