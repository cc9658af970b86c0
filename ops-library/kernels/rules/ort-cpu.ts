import type { RuleSet } from './types.ts';

/**
 * ONNX Runtime 1.30's CPU execution provider at graphOptimizationLevel 'all' on x86-64 with
 * AVX-512 (NCHWc block 16); `ortCpuRules({ nchwcBlock: 8 })` for AVX2 machines. Read off the
 * optimised graphs of the torchvision set and of the built-in spaces (optimizedModelFilePath and
 * the profiler), and ORT's transformer sources (graph_transformer_utils.cc for the order).
 */
export function ortCpuRules(o: { nchwcBlock?: number } = {}): RuleSet {
  const block = o.nchwcBlock ?? 16;
  return Object.freeze({
    runtime: block === 16 ? 'ort-cpu' : `ort-cpu-nchwc${block}`,
    summary: `onnxruntime CPU EP, level 'all': BN/Add/Mul/Pad folded into Conv, CSE, FusedConv activations, NCHWc layout (block ${block}) with Sum fusion and reorders, Gemm from MatMul+Add`,
    inlined: ['HardSwish'],
    levels: [
      {
        name: 'basic',
        passes: [
          'eliminateIdentity', 'eliminateDropout', 'eliminateNoop', 'eliminateCastExpandSlice', 'fuseConvAdd', 'fuseConvMul', 'fuseConvBn',
          'fusePad', 'shareConstantsAndCse', 'fuseMatMulAdd', 'fuseReshape', 'optimiseTransposes',
        ],
      },
      {
        name: 'extended',
        passes: ['fuseGemmActivation', 'fuseConvActivation', 'fuseGelu', 'fuseLayerNorm', 'fuseSimplifiedLayerNorm', 'fuseSliceToSplit', 'fuseMatMulTranspose', 'fuseSkipLayerNorm', 'fuseQuickGelu', 'fuseMatMulScale'],
      },
      { name: 'layout', passes: ['nchwc', 'fuseConvAddActivation'] },
    ],
    convActivations: ['Relu', 'Sigmoid', 'Tanh', 'LeakyRelu', 'Clip', 'HardSigmoid'],
    gemmActivations: ['Relu', 'Sigmoid', 'Tanh', 'LeakyRelu', 'HardSigmoid', 'Elu', 'Selu', 'Softplus', 'Softsign', 'ThresholdedRelu'],
    nchwc: {
      block,
      channelAlignment: 4,
      activations: ['Relu', 'Sigmoid', 'Tanh'],
      elementwise: ['HardSigmoid', 'com.microsoft:QuickGelu'],
    },
    prepacked: { Gemm: [1], 'com.microsoft:FusedGemm': [1], MatMul: [1] },
  });
}

export const ORT_CPU: RuleSet = ortCpuRules();
