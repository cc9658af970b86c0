export type { KernelCost, KernelCostSource, KernelModelOptions, KernelModelPrediction, KernelTrainingProfile } from './types.ts';
export { KernelModel, kernelKey, type KernelModelJson } from './model.ts';
export { trainKernelModel } from './train.ts';
