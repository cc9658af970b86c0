export type { BackendFactory, BackendOptions, LoadedModel, RuntimeBackend } from './types.ts';
export type { ProviderInfo } from './provider-info.ts';
export type { BackendSpec } from './registry.ts';
export { BACKENDS, createBackend, listBackends, parseBackendSpec } from './registry.ts';
export { createOrtNodeBackend, listProviders, ortNodeVersion } from './ort-node.ts';
export { probeModel } from './probe-model.ts';
export { createOrtWebBackend, ORT_WEB_PROVIDERS, ortWebVersion } from './ort-web.ts';
export { concreteShape, makeFeedsWith, type TensorClass } from './input-feeds.ts';
export { profileKernels, type ProfileKernelsOptions } from './ort-kernels.ts';
export { profileKernelsWasm } from './ort-web-kernels.ts';
export {
  coverSourceNodes, graphInfo, KernelProfileError, kernelsFromProfile, parseProfileJson, qualifiedOp, runtimeKernels,
  type GraphInfo, type GraphNode, type KernelProfileResult, type KernelsFromProfileOptions, type ProfileEvent,
} from './ort-profile.ts';
export { KERNEL_PROFILE_RUNS, KERNEL_PROFILE_WARMUP, kernelProfilerFor } from './kernel-profilers.ts';
