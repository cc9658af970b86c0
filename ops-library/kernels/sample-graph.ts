import onnxProto from 'onnx-proto';
import { OPSET } from '../onnx/builder.ts';
import { WeightSource } from '../onnx/weights.ts';

// The small ONNX graphs of a kernel campaign: each holds one kernel configuration written as
// exporters write it (Conv + activation + residual Add, Gelu as its Erf pattern, channel shuffle
// as Reshape-Transpose-Reshape), so the runtime fuses and lays it out as it would inside a
// network, and the profiler times the kernel it really runs.

const { onnx } = onnxProto;
type Attr = onnxProto.onnx.IAttributeProto;
const T = onnx.AttributeProto.AttributeType;
const ints = (name: string, v: readonly number[]): Attr => ({ name, type: T.INTS, ints: [...v] });
const int = (name: string, v: number): Attr => ({ name, type: T.INT, i: v });
const float = (name: string, v: number): Attr => ({ name, type: T.FLOAT, f: v });

/** Activations a sampled kernel applies after its head (fused by ORT into a Conv/Gemm where it can). */
export type SampleActivation = 'none' | 'relu' | 'relu6' | 'hswish' | 'sigmoid' | 'gelu';

/**
 * One kernel configuration of a campaign. Shapes are per sample (batch 1 is added): a conv's
 * input is [cin, hw, hw]; a matmul's operands are [.., m, k] × [.., k, n].
 */
export type KernelSample =
  | { kind: 'conv'; cin: number; cout: number; hw: number; kernel: number; stride: number; groups: number; act: SampleActivation; residual: boolean }
  | { kind: 'pool'; op: 'max' | 'avg'; c: number; hw: number; kernel: number; stride: number }
  | { kind: 'globalpool'; c: number; hw: number }
  | { kind: 'gemm'; in: number; out: number; act: SampleActivation }
  | { kind: 'matmul'; a: readonly number[]; b: readonly number[]; weights: boolean }
  | { kind: 'elementwise'; op: 'Add' | 'Mul'; shape: readonly number[]; broadcast: boolean }
  | { kind: 'activation'; act: Exclude<SampleActivation, 'none'>; shape: readonly number[] }
  | { kind: 'concat'; channels: readonly number[]; hw: number }
  | { kind: 'softmax'; shape: readonly number[] }
  | { kind: 'layernorm'; tokens: number; d: number }
  | { kind: 'batchnorm'; c: number; hw: number; act: SampleActivation }
  | { kind: 'shuffle'; c: number; hw: number; groups: number };

export type SampleKind = KernelSample['kind'];

const pad = (k: number) => Math.floor((k - 1) / 2);
const out = (hw: number, k: number, s: number) => Math.floor((hw + 2 * pad(k) - k) / s) + 1;

class Emitter {
  readonly nodes: onnxProto.onnx.INodeProto[] = [];
  readonly inits: onnxProto.onnx.ITensorProto[] = [];
  readonly inputs: onnxProto.onnx.IValueInfoProto[] = [];
  private n = 0;
  constructor(private readonly w: WeightSource) {}

  name(p: string): string {
    return `${p}_${this.n++}`;
  }
  input(dims: readonly number[]): string {
    const name = this.inputs.length === 0 ? 'input' : `input${this.inputs.length}`;
    this.inputs.push(valueInfo(name, dims));
    return name;
  }
  tensor(dims: readonly number[], scale: number, offset = 0): string {
    const name = this.name('w');
    const data = this.w.uniform(dims.reduce((a, b) => a * b, 1), scale, offset);
    this.inits.push({ name, dims: [...dims], dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(data.buffer) });
    return name;
  }
  scalar(v: number): string {
    const name = this.name('c');
    this.inits.push({ name, dims: [], dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(new Float32Array([v]).buffer) });
    return name;
  }
  int64s(v: readonly number[]): string {
    const name = this.name('shape');
    this.inits.push({ name, dims: [v.length], dataType: onnx.TensorProto.DataType.INT64, rawData: new Uint8Array(new BigInt64Array(v.map(BigInt)).buffer) });
    return name;
  }
  node(op: string, inputs: string[], attrs: Attr[] = []): string {
    const o = this.name(op.toLowerCase());
    this.nodes.push({ opType: op, input: inputs, output: [o], name: `n_${o}`, attribute: attrs });
    return o;
  }
  act(x: string, act: SampleActivation): string {
    switch (act) {
      case 'none':
        return x;
      case 'relu':
        return this.node('Relu', [x]);
      case 'relu6':
        return this.node('Clip', [x, this.scalar(0), this.scalar(6)]);
      case 'hswish':
        return this.node('HardSwish', [x]);
      case 'sigmoid':
        return this.node('Sigmoid', [x]);
      case 'gelu': {
        // x·0.5·(1 + erf(x/√2)), as torch exports it; ORT fuses it into com.microsoft:Gelu
        const e = this.node('Erf', [this.node('Div', [x, this.scalar(Math.SQRT2)])]);
        return this.node('Mul', [this.node('Mul', [x, this.node('Add', [e, this.scalar(1)])]), this.scalar(0.5)]);
      }
    }
  }
}

function valueInfo(name: string, dims: readonly number[]): onnxProto.onnx.IValueInfoProto {
  return { name, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } };
}

/** The output shape of a sample (batch included), for the graph's output and for tests. */
export function sampleOutputShape(s: KernelSample, batch = 1): number[] {
  switch (s.kind) {
    case 'conv':
      return [batch, s.cout, out(s.hw, s.kernel, s.stride), out(s.hw, s.kernel, s.stride)];
    case 'pool':
      return [batch, s.c, out(s.hw, s.kernel, s.stride), out(s.hw, s.kernel, s.stride)];
    case 'globalpool':
      return [batch, s.c, 1, 1];
    case 'gemm':
      return [batch, s.out];
    case 'matmul':
      return [batch, ...s.a.slice(0, -1), s.b[s.b.length - 1] as number];
    case 'elementwise':
    case 'activation':
    case 'softmax':
      return [batch, ...s.shape];
    case 'concat':
      return [batch, s.channels.reduce((a, b) => a + b, 0), s.hw, s.hw];
    case 'layernorm':
      return [batch, s.tokens, s.d];
    case 'batchnorm':
    case 'shuffle':
      return [batch, s.c, s.hw, s.hw];
  }
}

/**
 * The ONNX bytes of one sampled kernel (opset 17, float32, seeded weights), batch 1 unless asked.
 *
 * @example
 * const bytes = sampleGraph({ kind: 'conv', cin: 32, cout: 64, hw: 56, kernel: 3, stride: 2, groups: 1, act: 'relu', residual: false });
 */
export function sampleGraph(s: KernelSample, options: { batch?: number; seed?: number } = {}): Uint8Array {
  const batch = options.batch ?? 1;
  const g = new Emitter(new WeightSource(options.seed ?? 0));
  let y: string;
  switch (s.kind) {
    case 'conv': {
      if (s.cin % s.groups !== 0 || s.cout % s.groups !== 0) throw new RangeError(`conv sample: groups ${s.groups} must divide cin ${s.cin} and cout ${s.cout}`);
      const x = g.input([batch, s.cin, s.hw, s.hw]);
      const fanIn = (s.cin / s.groups) * s.kernel * s.kernel;
      const p = pad(s.kernel);
      const conv = g.node('Conv', [x, g.tensor([s.cout, s.cin / s.groups, s.kernel, s.kernel], Math.sqrt(3 / fanIn)), g.tensor([s.cout], 0.05)], [
        ints('kernel_shape', [s.kernel, s.kernel]), ints('strides', [s.stride, s.stride]), ints('pads', [p, p, p, p]), ints('dilations', [1, 1]), int('group', s.groups),
      ]);
      // a residual block: the sum comes before the activation (ResNet); ORT fuses both into the conv
      const sum = s.residual ? g.node('Add', [conv, g.input(sampleOutputShape(s, batch))]) : conv;
      y = g.act(sum, s.act);
      break;
    }
    case 'pool': {
      const x = g.input([batch, s.c, s.hw, s.hw]);
      const p = pad(s.kernel);
      const attrs = [ints('kernel_shape', [s.kernel, s.kernel]), ints('strides', [s.stride, s.stride]), ints('pads', [p, p, p, p])];
      y = g.node(s.op === 'max' ? 'MaxPool' : 'AveragePool', [x], s.op === 'avg' ? [...attrs, int('count_include_pad', 0)] : attrs);
      break;
    }
    case 'globalpool':
      y = g.node('GlobalAveragePool', [g.input([batch, s.c, s.hw, s.hw])]);
      break;
    case 'gemm':
      y = g.act(g.node('Gemm', [g.input([batch, s.in]), g.tensor([s.out, s.in], Math.sqrt(3 / s.in)), g.tensor([s.out], 0.05)], [int('transB', 1)]), s.act);
      break;
    case 'matmul': {
      const a = g.input([batch, ...s.a]);
      const k = s.a[s.a.length - 1] as number;
      const b = s.weights ? g.tensor(s.b, Math.sqrt(3 / k)) : g.input([batch, ...s.b]);
      y = g.node('MatMul', [a, b]);
      break;
    }
    case 'elementwise': {
      const a = g.input([batch, ...s.shape]);
      const bShape = s.broadcast ? [batch, s.shape[0] as number, ...s.shape.slice(1).map(() => 1)] : [batch, ...s.shape];
      y = g.node(s.op, [a, g.input(bShape)]);
      break;
    }
    case 'activation':
      y = g.act(g.input([batch, ...s.shape]), s.act);
      break;
    case 'concat':
      y = g.node('Concat', s.channels.map((c) => g.input([batch, c, s.hw, s.hw])), [int('axis', 1)]);
      break;
    case 'softmax':
      y = g.node('Softmax', [g.input([batch, ...s.shape])], [int('axis', -1)]);
      break;
    case 'layernorm':
      y = g.node('LayerNormalization', [g.input([batch, s.tokens, s.d]), g.tensor([s.d], 0.1, 1), g.tensor([s.d], 0.1)], [int('axis', -1), float('epsilon', 1e-5)]);
      break;
    case 'batchnorm': {
      const x = g.input([batch, s.c, s.hw, s.hw]);
      y = g.act(g.node('BatchNormalization', [x, g.tensor([s.c], 0.1, 1), g.tensor([s.c], 0.1), g.tensor([s.c], 0.1), g.tensor([s.c], 0.1, 1)], [float('epsilon', 1e-5)]), s.act);
      break;
    }
    case 'shuffle': {
      if (s.c % s.groups !== 0) throw new RangeError(`shuffle sample: groups ${s.groups} must divide channels ${s.c}`);
      const x = g.input([batch, s.c, s.hw, s.hw]);
      const split = g.node('Reshape', [x, g.int64s([0, s.groups, s.c / s.groups, s.hw, s.hw])]);
      const t = g.node('Transpose', [split], [ints('perm', [0, 2, 1, 3, 4])]);
      y = g.node('Reshape', [t, g.int64s([0, s.c, s.hw, s.hw])]);
      break;
    }
  }
  const last = g.nodes[g.nodes.length - 1] as onnxProto.onnx.INodeProto;
  // the last node writes the graph output
  if (last.output?.[0] !== y) throw new Error(`sample graph of '${s.kind}': its result is not the last node's output`);
  last.output = ['output'];
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'hwlat-kernel-campaign',
    opsetImport: [{ domain: '', version: OPSET }],
    graph: { name: 'kernel-sample', node: g.nodes, initializer: g.inits, input: g.inputs, output: [valueInfo('output', sampleOutputShape(s, batch))] },
  });
  return onnx.ModelProto.encode(model).finish();
}
