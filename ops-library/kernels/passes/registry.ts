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
