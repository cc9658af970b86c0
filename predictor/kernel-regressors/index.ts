export type { KernelFitOptions, KernelRegressor, KernelRegressorKind } from './types.ts';
export { KernelRegressorFormatError, UnknownKernelRegressorError } from './errors.ts';
export { kernelRegressorKind, kernelRegressorKinds, registerKernelRegressorKind } from './registry.ts';
