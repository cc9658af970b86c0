// Tiny real ONNX models for the agent tests; small enough that a whole measurement takes milliseconds.
import { buildSingleNodeModel, probeModel } from '../../agent/backends/probe-model.ts';

export { probeModel };

/** Conv 3x3, 4 → 8 channels, 8x8 input, no padding: output [1, 8, 6, 6]. */
export function tinyConv(): Uint8Array {
  return buildSingleNodeModel({
    opType: 'Conv',
    inputs: [{ name: 'x', shape: [1, 4, 8, 8] }, { name: 'w' }],
    initializers: [{ name: 'w', dims: [8, 4, 3, 3] }],
    output: { name: 'y' },
    attributes: { kernel_shape: [3, 3] },
  });
}

/** MatMul [1, 32] x [32, 16]: output [1, 16]. */
export function tinyMatMul(): Uint8Array {
  return buildSingleNodeModel({
    opType: 'MatMul',
    inputs: [{ name: 'a', shape: [1, 32] }, { name: 'w' }],
    initializers: [{ name: 'w', dims: [32, 16] }],
    output: { name: 'y', shape: [1, 16] },
  });
}
