export * from './backends/index.ts';
export * from './harness/index.ts';
export { fingerprint } from './fingerprint.ts';
export * from './profiler.ts';
export * from './transport/outbox-types.ts';
export * from './transport/outbox.ts';
export * from './transport/ws-client.ts';
export * from './client/jobs.ts';
export * from './client/agent-loop.ts';
