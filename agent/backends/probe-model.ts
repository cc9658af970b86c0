import { buildOnnx, lowerSpec } from '../../ops-library/index.ts';

/**
 * The provider probe: one Relu over a [N, 16] float input with a dynamic batch dimension, so it
 * also exercises how backends resolve symbolic dimensions. Built by ops-library's ONNX builder,
 * the project's only one.
 *
 * @example
 * const session = await ort.InferenceSession.create(probeModel());
 */
export function probeModel(): Uint8Array {
  return buildOnnx(lowerSpec({ op: 'relu', input: [16] }), { dynamicBatch: true });
}
