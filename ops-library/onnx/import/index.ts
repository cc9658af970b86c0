export * from './types.ts';
export * from './errors.ts';
export { importOnnx } from './import.ts';
export { stripOnnx, STRIPPED_LOCATION } from './strip.ts';
export { SUPPORTED_OPERATORS } from './infer.ts';
export { importPrimGraph, importNetwork } from './network.ts';
