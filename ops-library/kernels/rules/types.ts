/**
 * A runtime's graph optimiser as data: which rewrites run, in which order, with which operator
 * lists. Kernel detection (detect.ts) applies a rule set to the imported IR and reads off the
 * kernels the runtime executes. Rule sets are checked against the runtime itself (its optimised
 * graph and profiler) in tests/ops-library/kernels-*.test.ts.
 */
export interface RuleSet {
  /** the runtime and execution provider: 'ort-cpu', 'ort-wasm' */
  readonly runtime: string;
  readonly summary: string;
  /** ONNX function operators the runtime has no kernel for: replaced by their function body first (HardSwish → HardSigmoid · x) */
  readonly inlined: readonly string[];
  /** optimisation levels in order, each a list of passes (passes/registry.ts) iterated until nothing changes */
  readonly levels: ReadonlyArray<{ readonly name: string; readonly passes: readonly string[] }>;
  /** activations a Conv absorbs into a FusedConv (ConvActivationFusion, ConvAddActivationFusion) */
  readonly convActivations: readonly string[];
  /** activations a Gemm absorbs into a FusedGemm */
  readonly gemmActivations: readonly string[];
  /** the blocked-layout (NCHWc) rewrite, or null where the runtime has none (wasm, ARM) */
  readonly nchwc: NchwcRules | null;
  /**
   * Inputs a kernel consumes at session load (pre-packed weights), which the runtime's profiler no
   * longer reports: by op, the input indexes left out of a kernel's input shapes (when constant).
   */
  readonly prepacked: Readonly<Record<string, readonly number[]>>;
}

export interface NchwcRules {
  /** channels per block (MLAS: 16 with AVX-512, 8 with AVX2) */
  readonly block: number;
  /** ReorderInput needs channel counts aligned to this */
  readonly channelAlignment: number;
  /** unary activations that fuse into a single-use blocked Conv, else run blocked */
  readonly activations: readonly string[];
  /** unary elementwise ops that run on blocked tensors as they are */
  readonly elementwise: readonly string[];
}
