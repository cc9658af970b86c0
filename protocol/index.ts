export * from './device.ts';
export * from './measurement.ts';
export * from './job.ts';
export * from './messages.ts';
export * from './result.ts';
export * from './kernels.ts';
export * from './zod-error.ts';
