import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import type { IrGraph } from '../../ops-library/onnx/import/index.ts';

const { onnx } = onnxProto;
const ORT_TYPES: Record<string, number> = { float32: 1, uint8: 2, int8: 3, int32: 6, int64: 7, bool: 9, float16: 10, float64: 11 };

/**
 * The real shape of every tensor of a model, from one onnxruntime-node run with every node output
 * added as a graph output (optimisations off, so nothing is fused away). Inputs are zeros of the
 * given shapes. Types for the added outputs come from `ir` (ORT needs them); shapes are left open.
 */
export async function ortValueShapes(bytes: Uint8Array, ir: IrGraph, inputShapes: Readonly<Record<string, readonly number[]>> = {}): Promise<Map<string, number[]>> {
  const model = onnx.ModelProto.decode(bytes);
  const graph = model.graph as onnxProto.onnx.GraphProto;
  const present = new Set((graph.output ?? []).map((o) => o.name));
  for (const n of graph.node ?? []) {
    for (const o of n.output ?? []) {
      const v = ir.values.get(o);
      if (!o || present.has(o) || !v) continue;
      present.add(o);
      graph.output.push({ name: o, type: { tensorType: { elemType: ORT_TYPES[v.dtype] ?? 1 } } });
    }
  }
  const session = await ort.InferenceSession.create(onnx.ModelProto.encode(model).finish(), { graphOptimizationLevel: 'disabled', intraOpNumThreads: 1, logSeverityLevel: 3 });
  try {
    const feeds: Record<string, ort.Tensor> = {};
    for (const name of session.inputNames) {
      const v = ir.values.get(name);
      const dims = inputShapes[name] ?? v?.shape ?? [];
      const n = dims.reduce((a, b) => a * b, 1);
      feeds[name] = v?.dtype === 'int64' ? new ort.Tensor('int64', new BigInt64Array(n), dims) : new ort.Tensor('float32', new Float32Array(n), dims);
    }
    const out = await session.run(feeds);
    return new Map(Object.entries(out).map(([k, t]) => [k, [...t.dims]]));
  } finally {
    await session.release();
  }
}

type Attr = onnxProto.onnx.IAttributeProto;
const T = onnx.AttributeProto.AttributeType;
/** attribute helpers for hand-written test graphs */
export const attr = {
  int: (name: string, i: number): Attr => ({ name, type: T.INT, i }),
  ints: (name: string, ints: number[]): Attr => ({ name, type: T.INTS, ints }),
  float: (name: string, f: number): Attr => ({ name, type: T.FLOAT, f }),
  str: (name: string, s: string): Attr => ({ name, type: T.STRING, s: new TextEncoder().encode(s) }),
  tensor: (name: string, t: onnxProto.onnx.ITensorProto): Attr => ({ name, type: T.TENSOR, t }),
};

export const int64Tensor = (name: string, values: number[], dims = [values.length]): onnxProto.onnx.ITensorProto => ({
  name, dims, dataType: 7, rawData: new Uint8Array(new BigInt64Array(values.map(BigInt)).buffer),
});
export const floatTensor = (name: string, dims: number[], fill = (i: number) => Math.sin(i)): onnxProto.onnx.ITensorProto => {
  const n = dims.reduce((a, b) => a * b, 1);
  return { name, dims, dataType: 1, rawData: new Uint8Array(Float32Array.from({ length: n }, (_, i) => fill(i)).buffer) };
};

/** A small opset-17 model from nodes written as [op, inputs, outputs, attrs]. */
export function tinyModel(o: {
  inputs: Array<[string, Array<number | string>]>;
  outputs: string[];
  nodes: Array<[string, string[], string[], Attr[]?] | onnxProto.onnx.INodeProto>;
  initializers?: onnxProto.onnx.ITensorProto[];
  opset?: number;
}): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: o.opset ?? 17 }],
    graph: {
      name: 'tiny',
      node: o.nodes.map((n, i) => (Array.isArray(n) ? { opType: n[0], input: n[1], output: n[2], attribute: n[3] ?? [], name: `${n[0]}_${i}` } : n)),
      initializer: o.initializers ?? [],
      input: o.inputs.map(([name, dims]) => ({
        name,
        type: { tensorType: { elemType: 1, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
      })),
      output: o.outputs.map((name) => ({ name, type: { tensorType: { elemType: 1 } } })),
    },
  });
  return onnx.ModelProto.encode(model).finish();
}
