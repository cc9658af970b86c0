import onnxProto from 'onnx-proto';
import type { PrimGraph, PrimNode } from '../prim-graph.ts';
import type { Shape } from '../shape.ts';
import { WeightSource } from './weights.ts';

const { onnx } = onnxProto;

export const OPSET = 17;
const IR_VERSION = 8;

export interface BuildOptions {
  /** batch size baked into the input shape (default 1); ignored when `dynamicBatch` */
  batch?: number;
  /** leave the batch dimension symbolic ('batch') */
  dynamicBatch?: boolean;
  /** graph input names, in input order (default 'input', 'input1', …) */
  inputNames?: readonly string[];
  /** graph output name (default 'output') */
  outputName?: string;
  /** weight seed (default 0) */
  seed?: number;
  /** graph name recorded in the model */
  name?: string;
}

type Attr = onnxProto.onnx.IAttributeProto;
const ints = (name: string, v: number[]): Attr => ({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: v });
const int = (name: string, v: number): Attr => ({ name, type: onnx.AttributeProto.AttributeType.INT, i: v });
const float = (name: string, v: number): Attr => ({ name, type: onnx.AttributeProto.AttributeType.FLOAT, f: v });

class GraphEmitter {
  readonly nodes: onnxProto.onnx.INodeProto[] = [];
  readonly initializers: onnxProto.onnx.ITensorProto[] = [];
  private counter = 0;
  constructor(private readonly weights: WeightSource) {}

  fresh(prefix: string): string {
    return `${prefix}_${this.counter++}`;
  }

  floatInit(prefix: string, dims: number[], data: Float32Array): string {
    const name = this.fresh(prefix);
    this.initializers.push({
      name,
      dims,
      dataType: onnx.TensorProto.DataType.FLOAT,
      rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    });
    return name;
  }

  int64Init(prefix: string, values: number[]): string {
    const name = this.fresh(prefix);
    const data = new BigInt64Array(values.map((v) => BigInt(v)));
    this.initializers.push({
      name,
      dims: [values.length],
      dataType: onnx.TensorProto.DataType.INT64,
      rawData: new Uint8Array(data.buffer),
    });
    return name;
  }

  random(prefix: string, dims: number[], scale: number, offset = 0): string {
    return this.floatInit(prefix, dims, this.weights.uniform(dims.reduce((a, b) => a * b, 1), scale, offset));
  }

  node(opType: string, inputs: string[], attribute: Attr[] = [], output?: string): string {
    const out = output ?? this.fresh(opType.toLowerCase());
    this.nodes.push({ opType, input: inputs, output: [out], name: this.fresh(`n_${opType}`), attribute });
    return out;
  }
}

/** Emits one primitive as ONNX nodes; returns the output tensor name. */
function emitPrim(g: GraphEmitter, node: PrimNode, ins: string[], shapes: readonly Shape[]): string {
  const p = node.prim;
  const x = ins[0] as string;
  switch (p.kind) {
    case 'conv': {
      const fanIn = (p.cin / p.groups) * p.kernel * p.kernel;
      const w = g.random('W', [p.cout, p.cin / p.groups, p.kernel, p.kernel], Math.sqrt(3 / fanIn));
      const inputs = [x, w];
      if (p.bias) inputs.push(g.random('B', [p.cout], 0.05));
      return g.node('Conv', inputs, [
        ints('kernel_shape', [p.kernel, p.kernel]),
        ints('strides', [p.stride, p.stride]),
        ints('pads', [p.padding, p.padding, p.padding, p.padding]),
        ints('dilations', [p.dilation, p.dilation]),
        int('group', p.groups),
      ]);
    }
    case 'batchnorm': {
      const c = p.channels;
      return g.node('BatchNormalization', [
        x,
        g.random('bn_scale', [c], 0.1, 1),
        g.random('bn_bias', [c], 0.1),
        g.random('bn_mean', [c], 0.1),
        g.random('bn_var', [c], 0.1, 1),
      ], [float('epsilon', 1e-5)]);
    }
    case 'act':
      switch (p.fn) {
        case 'relu':
          return g.node('Relu', [x]);
        case 'relu6':
          return g.node('Clip', [x, g.floatInit('clip_min', [], new Float32Array([0])), g.floatInit('clip_max', [], new Float32Array([6]))]);
        case 'hswish':
          return g.node('HardSwish', [x]);
        case 'sigmoid':
          return g.node('Sigmoid', [x]);
        case 'hsigmoid':
          return g.node('HardSigmoid', [x], [float('alpha', 1 / 6), float('beta', 0.5)]);
      }
      break;
    case 'maxpool':
    case 'avgpool': {
      const attrs = [ints('kernel_shape', [p.kernel, p.kernel]), ints('strides', [p.stride, p.stride]), ints('pads', [p.padding, p.padding, p.padding, p.padding])];
      if (p.kind === 'avgpool') attrs.push(int('count_include_pad', p.countIncludePad ? 1 : 0));
      return g.node(p.kind === 'maxpool' ? 'MaxPool' : 'AveragePool', [x], attrs);
    }
    case 'global_avgpool':
      return g.node('GlobalAveragePool', [x]);
    case 'flatten':
      return g.node('Flatten', [x], [int('axis', 1)]);
    case 'linear': {
      const w = g.random('W', [p.outFeatures, p.inFeatures], Math.sqrt(3 / p.inFeatures));
      const inputs = [x, w];
      if (p.bias) inputs.push(g.random('B', [p.outFeatures], 0.05));
      return g.node('Gemm', inputs, [int('transB', 1)]);
    }
    case 'add':
      return g.node('Add', ins);
    case 'mul':
      return g.node('Mul', ins);
    case 'concat':
      return g.node('Concat', ins, [int('axis', 1)]);
    case 'channel_shuffle': {
      const [c, h, w] = shapes[node.output] as [number, number, number];
      // 0 copies the batch dimension, so the same graph serves any batch size
      const split = g.node('Reshape', [x, g.int64Init('shape', [0, p.groups, c / p.groups, h, w])]);
      const t = g.node('Transpose', [split], [ints('perm', [0, 2, 1, 3, 4])]);
      return g.node('Reshape', [t, g.int64Init('shape', [0, c, h, w])]);
    }
    case 'zero':
      return g.node('Mul', [x, g.floatInit('zero', [], new Float32Array([0]))]);
    case 'identity':
      return g.node('Identity', [x]);
  }
  throw new TypeError(`no ONNX emitter for primitive '${(p as { kind: string }).kind}'`);
}

function valueInfo(name: string, shape: Shape, batch: number | 'batch'): onnxProto.onnx.IValueInfoProto {
  const dims = [batch, ...shape].map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  return { name, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: dims } } } };
}

/**
 * Serialises a lowered graph to ONNX model bytes (opset 17, float32, seeded weights in rawData).
 *
 * @example
 * const bytes = buildOnnx(lowerSpec({ op: 'conv2d', input: [3, 32, 32], out: 8, kernel: 3 }), { batch: 4 });
 */
export function buildOnnx(graph: PrimGraph, options: BuildOptions = {}): Uint8Array {
  const batch = options.batch ?? 1;
  if (!Number.isInteger(batch) || batch < 1) throw new RangeError(`'batch' must be an integer >= 1, got ${batch}`);
  const seed = options.seed ?? 0;
  const inputNames = options.inputNames ?? graph.inputs.map((_, i) => (i === 0 ? 'input' : `input${i}`));
  if (inputNames.length !== graph.inputs.length) {
    throw new RangeError(`'inputNames' must name ${graph.inputs.length} inputs, got ${inputNames.length}`);
  }
  const outputName = options.outputName ?? 'output';
  const g = new GraphEmitter(new WeightSource(seed));
  const names = new Map<number, string>();
  graph.inputs.forEach((v, i) => names.set(v, inputNames[i] as string));
  graph.nodes.forEach((node, i) => {
    const ins = node.inputs.map((v) => names.get(v) as string);
    const out = emitPrim(g, node, ins, graph.shapes);
    names.set(node.output, out);
    if (i === graph.nodes.length - 1 && node.output === graph.output) {
      // rename the last node's output to the public output name
      const last = g.nodes[g.nodes.length - 1] as onnxProto.onnx.INodeProto;
      renameTensor(g, out, outputName, last);
      names.set(node.output, outputName);
    }
  });
  if (names.get(graph.output) !== outputName) {
    // the output is an input or an earlier value: expose it through an Identity node
    g.node('Identity', [names.get(graph.output) as string], [], outputName);
  }
  const b: number | 'batch' = options.dynamicBatch ? 'batch' : batch;
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    producerName: 'hwlat',
    producerVersion: '0.1.0',
    opsetImport: [{ domain: '', version: OPSET }],
    graph: {
      name: options.name ?? 'hwlat',
      node: g.nodes,
      initializer: g.initializers,
      input: graph.inputs.map((v, i) => valueInfo(inputNames[i] as string, graph.shapes[v] as Shape, b)),
      output: [valueInfo(outputName, graph.shapes[graph.output] as Shape, b)],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

function renameTensor(g: GraphEmitter, from: string, to: string, producer: onnxProto.onnx.INodeProto): void {
  producer.output = [to];
  for (const n of g.nodes) if (n.input) n.input = n.input.map((i) => (i === from ? to : i));
}
