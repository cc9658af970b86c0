import type { OpSpec } from '../../ops-library/index.ts';
import type { UnitSource } from '../tables.ts';

/** One kernel the runtime executes for an ONNX graph: fused nodes and the spec they become. */
export interface OnnxKernel {
  /** the ONNX node names fused into this kernel, in graph order (e.g. Conv, BatchNormalization, Relu) */
  nodes: string[];
  /** their op types, e.g. ['Conv', 'BatchNormalization', 'Relu'] */
  opTypes: string[];
  spec: OpSpec;
  /** ops-library's canonical key of `spec` (the LUT key) */
  key: string;
  /** why the spec is an approximation, when it is one (e.g. Mul costed as an elementwise add) */
  note?: string;
}

/** An ONNX graph as kernels, plus the nodes that cost nothing at run time (views, identities). */
export interface OnnxDecomposition {
  /** graph input shape without the batch dimension */
  input: readonly number[];
  kernels: OnnxKernel[];
  /** names of nodes that only relabel memory (Flatten, Reshape, Identity, Dropout, Constant) */
  free: string[];
}

/** One kernel's predicted latency and where it came from. */
export interface OnnxKernelCost {
  nodes: string[];
  opTypes: string[];
  key: string;
  ms: number;
  source: UnitSource;
  note?: string;
}

/** The prediction of an ONNX graph: the sum of its kernels (LUT hit, else per-kernel regressor). */
export interface OnnxPrediction {
  /** Σ kernel ms at the predictor's reference calibration (or at `calibrationMs` when given) */
  ms: number;
  kernels: OnnxKernelCost[];
  lutHits: number;
  regressorKernels: number;
  free: number;
}
