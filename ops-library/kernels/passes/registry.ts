import { eliminateCastExpandSlice, eliminateDropout, eliminateIdentity, eliminateNoop, fuseReshape, inlineFunctions, shareConstantsAndCse } from './basic.ts';
import { fuseConvActivation, fuseConvAdd, fuseConvAddActivation, fuseConvBn, fuseConvMul, fusePad } from './conv.ts';
import { fuseGelu, fuseQuickGelu, fuseSliceToSplit } from './elementwise.ts';
import { fuseGemmActivation, fuseMatMulAdd } from './gemm.ts';
import { fuseLayerNorm, fuseSimplifiedLayerNorm } from './layernorm.ts';
import { fuseMatMulScale, fuseMatMulTranspose, fuseSkipLayerNorm } from './matmul.ts';
import { nchwc } from './nchwc.ts';
import { optimiseTransposes } from './transpose.ts';
import type { Pass } from './util.ts';

/** Every graph rewrite a rule set can name, by name. */
export const PASSES: Readonly<Record<string, Pass>> = Object.freeze({
  inlineFunctions, eliminateIdentity, eliminateDropout, eliminateNoop, eliminateCastExpandSlice, shareConstantsAndCse, fuseReshape,
  fuseConvBn, fuseConvAdd, fuseConvMul, fusePad, fuseConvActivation, fuseConvAddActivation,
  fuseMatMulAdd, fuseGemmActivation, fuseGelu, fuseQuickGelu, fuseSliceToSplit, nchwc, optimiseTransposes, fuseMatMulTranspose, fuseMatMulScale, fuseSkipLayerNorm, fuseLayerNorm, fuseSimplifiedLayerNorm,
});

/**
 * The ops each pass's rewrites start from: every rewrite of the pass begins at a node of one of
 * these ops (its loop skips all others), so in a graph with none of them the pass changes nothing
 * and optimise() does not run it. Passes not listed always run.
 */
export const PASS_TRIGGERS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  inlineFunctions: ['HardSwish'],
  eliminateIdentity: ['Identity'],
  eliminateDropout: ['Dropout'],
  eliminateNoop: ['Add', 'Sub', 'Mul', 'Div'],
  eliminateCastExpandSlice: ['Cast', 'Expand', 'Slice'],
  fuseReshape: ['Reshape', 'Squeeze', 'Unsqueeze'],
  fuseConvBn: ['Conv'],
  fuseConvAdd: ['Conv'],
  fuseConvMul: ['Conv'],
  fusePad: ['Pad'],
  fuseConvActivation: ['Conv'],
  fuseConvAddActivation: ['Conv'],
  fuseMatMulAdd: ['MatMul'],
  fuseGemmActivation: ['Gemm'],
  fuseGelu: ['Div', 'Mul'],
  fuseQuickGelu: ['Sigmoid'],
  fuseSliceToSplit: ['Slice'],
  // other ops are blocked only after a Conv or pool made a blocked tensor
  nchwc: ['Conv', 'com.microsoft:FusedConv', 'MaxPool', 'AveragePool'],
  optimiseTransposes: ['Transpose'],
  fuseMatMulTranspose: ['MatMul', 'com.microsoft:FusedMatMul'],
  fuseMatMulScale: ['MatMul', 'com.microsoft:FusedMatMul'],
  // the Add it fuses must feed a LayerNormalization
  fuseSkipLayerNorm: ['LayerNormalization'],
  fuseLayerNorm: ['ReduceMean'],
  fuseSimplifiedLayerNorm: ['Pow'],
});

/**
 * Passes that, right after they ran (and the graph was sorted), would change nothing if run
 * again. shareConstantsAndCse: it visits nodes in topological order and a node's inputs are only
 * redirected by the removal of a later node, which cannot feed it; so every node's key is final
 * when visited, and no two nodes left share one.
 */
export const IDEMPOTENT_PASSES: ReadonlySet<string> = new Set(['shareConstantsAndCse']);
