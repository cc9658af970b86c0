export type { KernelContextMode, KernelCost, KernelCostSource, KernelModelOptions, KernelModelPrediction, KernelTrainingProfile } from './types.ts';
export { KernelModel, kernelKey, type KernelModelJson } from './model.ts';
export { signTestP, trainKernelModel } from './train.ts';
export { contextFactor, fitKernelContext, samplesInContext, type KernelContext } from './context.ts';
