// Tiny real ONNX models for the agent tests; small enough that a whole measurement takes milliseconds.
import { buildOnnx, lowerSpec } from '../../ops-library/index.ts';
import { probeModel } from '../../agent/backends/probe-model.ts';

export { probeModel };

/** Conv 3x3, 4 → 8 channels, 8x8 input, no padding: output [1, 8, 6, 6]. */
export function tinyConv(): Uint8Array {
  return buildOnnx(lowerSpec({ op: 'conv2d', input: [4, 8, 8], out: 8, kernel: 3, padding: 0 }));
}

/** Linear 32 → 16 (Gemm): output [1, 16]. */
export function tinyMatMul(): Uint8Array {
  return buildOnnx(lowerSpec({ op: 'linear', input: [32], out: 16 }));
}
