import { lowerNetwork, lowerSpec } from '../graph.ts';
import type { OpSpec } from '../ops/types.ts';
import { getSpace } from '../spaces/registry.ts';
import type { SearchSpace } from '../spaces/types.ts';
import { buildOnnx, type BuildOptions } from './builder.ts';

/**
 * The ONNX bytes of a space's network from its arch string: the one way an architecture becomes a
 * model (profiler items, a job's task, the calibration and anchor networks). An unknown space or
 * a bad arch string throws the space's typed error.
 *
 * @example
 * networkOnnx('nasbench201', arch, { batch: 1 }); // Uint8Array
 */
export function networkOnnx(space: string | SearchSpace, arch: string, options: BuildOptions = {}): Uint8Array {
  const s = typeof space === 'string' ? getSpace(space) : space;
  return buildOnnx(lowerNetwork(s.expand(arch)), options);
}

/** The ONNX bytes of one op spec (an op-level LUT unit). */
export function opOnnx(spec: OpSpec, options: BuildOptions = {}): Uint8Array {
  return buildOnnx(lowerSpec(spec), options);
}
