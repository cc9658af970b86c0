import type { RuleSet } from './types.ts';
import { ORT_CPU } from './ort-cpu.ts';

/**
 * onnxruntime-web 1.30's wasm backend (in Node and browsers): ORT's CPU kernels compiled to
 * WebAssembly, with the same level 1–2 rewrites, and no NCHWc layout (MLAS has no blocked
 * kernels in wasm), so Convs keep FusedConv and Conv+Add fuses at level 3.
 */
export const ORT_WASM: RuleSet = Object.freeze({
  ...ORT_CPU,
  runtime: 'ort-wasm',
  summary: "onnxruntime-web wasm, level 'all': the CPU EP's fusions without the NCHWc layout",
  levels: [...ORT_CPU.levels.slice(0, 2), { name: 'layout', passes: ['fuseConvAddActivation'] }],
  nchwc: null,
});
