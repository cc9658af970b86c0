export type { BackendFactory, BackendOptions, LoadedModel, RuntimeBackend } from './types.ts';
export type { ProviderInfo } from './provider-info.ts';
export type { BackendSpec } from './registry.ts';
export { BACKENDS, createBackend, listBackends, parseBackendSpec } from './registry.ts';
export { createOrtNodeBackend, listProviders, ortNodeVersion } from './ort-node.ts';
export { probeModel } from './probe-model.ts';
export { createOrtWebBackend, ORT_WEB_PROVIDERS, ortWebVersion } from './ort-web.ts';
export { concreteShape, makeFeedsWith, type TensorClass } from './input-feeds.ts';
