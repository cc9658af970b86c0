export * from './backends/index.ts';
export * from './harness/index.ts';
// the calibration and anchor networks live with the other measurement conditions
export { ANCHOR_NETWORKS, anchorArch, anchorModel, CALIBRATION_KEY, CALIBRATION_NETWORK, calibrationModel } from '../conditions/index.ts';
export { fingerprint } from './fingerprint.ts';
export * from './profiler.ts';
export { NO_PROBE, type ConditionProbe } from './probe.ts';
export { nodeProbe } from './probe-node.ts';
export * from './transport/outbox-types.ts';
export * from './transport/outbox.ts';
export * from './transport/ws-client.ts';
export * from './client/jobs.ts';
export * from './client/node-agent.ts';
export * from './kernel-profile.ts';
export * from './kernel-campaign.ts';
