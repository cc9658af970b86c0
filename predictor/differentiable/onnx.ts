import onnxProto from 'onnx-proto';
import type { LatencyParams } from './types.ts';

const { onnx } = onnxProto;

/** The opset of the exported graph (as ops-library's network builder). */
export const LATENCY_ONNX_OPSET = 17;

/** The ops the exported graph may contain: ones every converter (onnx2torch, onnx-tf, …) handles. */
export const LATENCY_ONNX_OPS = Object.freeze(['MatMul', 'Add', 'Sub', 'Mul', 'Relu', 'Reshape', 'Slice'] as const);

class Emitter {
  readonly nodes: onnxProto.onnx.INodeProto[] = [];
  readonly initializers: onnxProto.onnx.ITensorProto[] = [];
  private n = 0;

  fresh(prefix: string): string {
    return `${prefix}_${this.n++}`;
  }

  floats(prefix: string, dims: number[], data: Float32Array | number[]): string {
    const name = this.fresh(prefix);
    const f = Float32Array.from(data);
    this.initializers.push({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(f.buffer) });
    return name;
  }

  int64s(prefix: string, values: number[]): string {
    const name = this.fresh(prefix);
    const data = new BigInt64Array(values.map((v) => BigInt(v)));
    this.initializers.push({ name, dims: [values.length], dataType: onnx.TensorProto.DataType.INT64, rawData: new Uint8Array(data.buffer) });
    return name;
  }

  node(op: (typeof LATENCY_ONNX_OPS)[number], inputs: string[], output?: string): string {
    const out = output ?? this.fresh(op.toLowerCase());
    this.nodes.push({ opType: op, input: inputs, output: [out], name: this.fresh(`n_${op}`) });
    return out;
  }
}

const tensorInfo = (name: string, dims: number[]) => ({
  name,
  type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
});

/**
 * The expected-latency model as an ONNX graph: input `probs` float32 `[layers, candidates]`,
 * output `latency_ms` float32 `[1]`, from MatMul/Add/Sub/Mul/Relu/Reshape/Slice only (so
 * onnx2torch turns it into a torch.nn.Module a PyTorch search loop differentiates).
 *
 * @example
 * writeFileSync('fbnet-latency.onnx', latencyOnnx(model.params));
 */
export function latencyOnnx(params: LatencyParams): Uint8Array {
  const g = new Emitter();
  const { layers: L, candidates: C } = params;
  let y: string;
  if (params.form === 'enumerated') {
    const archs = params.archs as Int32Array;
    const N = archs.length / L;
    let prob: string | null = null;
    for (let l = 0; l < L; l++) {
      const row = g.node('Slice', ['probs', g.int64s('start', [l]), g.int64s('end', [l + 1]), g.int64s('axes', [0])]);
      const s = new Float32Array(C * N);
      for (let a = 0; a < N; a++) s[(archs[a * L + l] as number) * N + a] = 1;
      const pl = g.node('MatMul', [row, g.floats(`select${l}`, [C, N], s)]);
      prob = prob ? g.node('Mul', [prob, pl]) : pl;
    }
    y = g.node('MatMul', [prob as string, g.floats('arch_ms', [N, 1], params.archMs as Float32Array)]);
  } else {
    const flat = g.node('Reshape', ['probs', g.int64s('flat_shape', [1, L * C])]);
    let h = flat;
    for (const [i, d] of (params.mlp ?? []).entries()) {
      const z = g.node('Add', [g.node('MatMul', [h, g.floats(`W${i}`, [d.inputs, d.units], d.kernel)]), g.floats(`b${i}`, [d.units], d.bias)]);
      h = d.relu ? g.node('Relu', [z]) : z;
    }
    if (params.mlpMode === 'encoding') {
      y = g.node('Mul', [h, g.floats('y_scale', [], [params.yScale])]);
    } else {
      y = g.node('Add', [g.node('MatMul', [flat, g.floats('scores', [L * C, 1], params.scores)]), g.floats('base', [], [params.base])]);
      if (params.mlpMode === 'residual') {
        // max(0.1, 1 + r) = relu(r + 0.9) + 0.1
        const factor = g.node('Add', [g.node('Relu', [g.node('Add', [h, g.floats('c09', [], [0.9])])]), g.floats('c01', [], [0.1])]);
        y = g.node('Mul', [y, factor]);
      }
    }
    if (params.floorMs !== null) {
      // max(floor, y) = relu(y − floor) + floor
      const floor = g.floats('floor', [], [params.floorMs]);
      y = g.node('Add', [g.node('Relu', [g.node('Sub', [y, floor])]), floor]);
    }
  }
  g.node('Reshape', [y, g.int64s('out_shape', [1])], 'latency_ms');
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'hwlat',
    producerVersion: '0.1.0',
    opsetImport: [{ domain: '', version: LATENCY_ONNX_OPSET }],
    docString: `E[latency] (ms) of '${params.space}' on ${params.deviceId} (predictor kind '${params.kind}') under architecture probabilities [${L}, ${C}]`,
    graph: {
      name: `hwlat_expected_latency_${params.space.replace(/[^A-Za-z0-9_]/g, '_')}`,
      node: g.nodes,
      initializer: g.initializers,
      input: [tensorInfo('probs', [L, C])],
      output: [tensorInfo('latency_ms', [1])],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}
