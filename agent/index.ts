export * from './backends/index.ts';
export * from './harness/index.ts';
export { fingerprint } from './fingerprint.ts';
export * from './profiler.ts';
