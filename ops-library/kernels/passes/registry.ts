import { eliminateCastExpandSlice, eliminateDropout, eliminateIdentity, eliminateNoop, fuseReshape, inlineFunctions, shareConstantsAndCse } from './basic.ts';
import { fuseConvActivation, fuseConvAdd, fuseConvAddActivation, fuseConvBn, fuseConvMul, fusePad } from './conv.ts';
import { fuseGelu, fuseQuickGelu, fuseSliceToSplit } from './elementwise.ts';
import { fuseGemmActivation, fuseMatMulAdd } from './gemm.ts';
import { nchwc } from './nchwc.ts';
import type { Pass } from './util.ts';

/** Every graph rewrite a rule set can name, by name. */
export const PASSES: Readonly<Record<string, Pass>> = Object.freeze({
  inlineFunctions, eliminateIdentity, eliminateDropout, eliminateNoop, eliminateCastExpandSlice, shareConstantsAndCse, fuseReshape,
  fuseConvBn, fuseConvAdd, fuseConvMul, fusePad, fuseConvActivation, fuseConvAddActivation,
  fuseMatMulAdd, fuseGemmActivation, fuseGelu, fuseQuickGelu, fuseSliceToSplit, nchwc,
});
