export * from './device.ts';
export * from './measurement.ts';
