// kernel detection (the RuntimeKernel type itself is exported by ops-library/index.ts from types.ts)
export type { RuleSet, NchwcRules } from './rules/types.ts';
export { ORT_CPU, ortCpuRules } from './rules/ort-cpu.ts';
export { ORT_WASM } from './rules/ort-wasm.ts';
export { kernels, optimise, RULE_SETS } from './detect.ts';
export { normaliseAttrs } from './attrs.ts';
