import type { RuntimeKernel, TimedKernel } from '../../ops-library/kernels/types.ts';

/** One profiled run the kernel model learns from: its kernels timed in context, and the run's own latency. */
export interface KernelTrainingProfile {
  /** what was profiled (an arch string, a model name, a sample key): for reports */
  id: string;
  kernels: readonly TimedKernel[];
  /**
   * the whole run's latency measured without the profiler (a network measurement), when there is
   * one: the overhead term learns the gap between it and Σ kernels. Kernel-campaign samples have none.
   */
  measuredMs?: number | null;
}

/** Where one kernel's figure came from. */
export type KernelCostSource =
  /** this exact kernel (type and features) was timed in context on the device: its median */
  | 'measured'
  /** the regressor of its own kernel type */
  | 'regressor'
  /** no regressor of its own type (too few samples): its op family's, else the all-kernels one */
  | 'fallback';

export interface KernelCost {
  /** the runtime's op, e.g. 'com.microsoft:FusedConv' */
  op: string;
  /** the regressor group (ops-library kernelType), e.g. 'com.microsoft.nchwc:Conv/depthwise' */
  type: string;
  /** the source-graph nodes it covers */
  nodes: readonly string[];
  ms: number;
  source: KernelCostSource;
  /** the regressor that answered ('Conv/dense', 'Conv', 'any') for regressor and fallback */
  model?: string;
}

/** A model's predicted latency: Σ kernels plus the device's per-run overhead. */
export interface KernelModelPrediction {
  ms: number;
  kernelSumMs: number;
  overheadMs: number;
  kernels: KernelCost[];
}

export interface KernelModelOptions {
  /** kernel regressor kind (predictor/kernel-regressors), default 'random-forest' */
  kind?: string;
  /** kernels a type needs for a regressor of its own (default 6) */
  minPerType?: number;
  seed?: number;
  /**
   * scale each profile that carries a measured latency so its kernels and the overhead add up to
   * that latency (default true): kernels are learned at the device's warm latency, not the profiler's
   */
  scaleToMeasured?: boolean;
  /**
   * how campaign samples carry into networks (predictor/kernel-model/context.ts): 'auto' (default)
   * picks 'none' or 'any' by leave-one-network-out on the device's own networks; 'type' only when asked
   */
  context?: KernelContextMode;
}

/** How campaign samples' kernel times are carried into networks: not at all, one factor, one per kernel type, or chosen. */
export const KERNEL_CONTEXT_MODES = ['none', 'any', 'type', 'auto'] as const;
export type KernelContextMode = (typeof KERNEL_CONTEXT_MODES)[number];

/** a profile of a whole network (it carries the latency measured without the profiler), not a campaign sample */
export const isNetworkProfile = (p: KernelTrainingProfile): boolean => typeof p.measuredMs === 'number';

export type { RuntimeKernel, TimedKernel };
