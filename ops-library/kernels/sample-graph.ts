import onnxProto from 'onnx-proto';
import { OPSET } from '../onnx/builder.ts';
import { WeightSource } from '../onnx/weights.ts';

// The small ONNX graphs of a kernel campaign: each holds one kernel configuration written as
// exporters write it (Conv + activation + residual Add, Gelu as its Erf pattern, SiLU as
// Sigmoid + Mul, channel shuffle as Reshape-Transpose-Reshape, attention's scaled products with
// their Transposes), so the runtime fuses and lays it out as it would inside a network, and the
// profiler times the kernel it really runs.

const { onnx } = onnxProto;
type Attr = onnxProto.onnx.IAttributeProto;
const T = onnx.AttributeProto.AttributeType;
const ints = (name: string, v: readonly number[]): Attr => ({ name, type: T.INTS, ints: [...v] });
const int = (name: string, v: number): Attr => ({ name, type: T.INT, i: v });
const float = (name: string, v: number): Attr => ({ name, type: T.FLOAT, f: v });

/** Activations a sampled kernel applies after its head (fused by ORT into a Conv/Gemm where it can). */
export type SampleActivation = 'none' | 'relu' | 'relu6' | 'hswish' | 'sigmoid' | 'hardsigmoid' | 'gelu' | 'silu';

/**
 * One kernel configuration of a campaign. Shapes are per sample (batch 1 is added): a conv's
 * input is [cin, hw, hw]; a matmul's operands are [.., m, k] × [.., k, n]. Optional fields are
 * variants added later: a sample without them is the configuration it always was (same graph,
 * same key).
 */
export type KernelSample =
  | { kind: 'conv'; cin: number; cout: number; hw: number; kernel: number; stride: number; groups: number; act: SampleActivation; residual: boolean }
  | { kind: 'pool'; op: 'max' | 'avg'; c: number; hw: number; kernel: number; stride: number }
  | {
      kind: 'globalpool';
      c: number;
      hw: number;
      /** 'mean': ReduceMean over H, W without kept dims, as torch exports `x.mean([2, 3])` (ShuffleNet's, MnasNet's heads) */
      op?: 'mean';
      /** 'dwconv': read from a depthwise 3×3 conv, so the pool takes the layout it has in a network (ORT's NCHWc pool needs a blocked producer) */
      from?: 'dwconv';
      /** followed by Flatten, as classifier heads are */
      flatten?: boolean;
    }
  | { kind: 'gemm'; in: number; out: number; act: SampleActivation }
  | { kind: 'matmul'; a: readonly number[]; b: readonly number[]; weights: boolean; bias?: boolean }
  | { kind: 'elementwise'; op: 'Add' | 'Mul'; shape: readonly number[]; broadcast: boolean }
  | { kind: 'activation'; act: Exclude<SampleActivation, 'none'>; shape: readonly number[] }
  | { kind: 'concat'; channels: readonly number[]; hw: number }
  | { kind: 'softmax'; shape: readonly number[] }
  | { kind: 'layernorm'; tokens: number; d: number; /** the residual Add before it (ORT: SkipLayerNormalization) */ skip?: boolean }
  | {
      kind: 'batchnorm';
      c: number;
      hw: number;
      act: SampleActivation;
      /**
       * 'pool': read from a 3×3 max pool (stride 1), so the BatchNorm takes the blocked layout it has
       * after DenseNet's concats, where ORT runs it as a 1×1 depthwise NCHWc conv (a conv before it
       * would absorb it instead)
       */
      from?: 'pool';
    }
  | { kind: 'shuffle'; c: number; hw: number; groups: number }
  /** squeeze-and-excitation after a depthwise 3×3 conv (MobileNetV3, EfficientNet, RegNetY): GAP → 1×1 c→squeeze → 1×1 squeeze→c → gate → Mul */
  | { kind: 'se'; c: number; hw: number; squeeze: number; act: 'relu' | 'hswish' | 'silu'; gate: 'sigmoid' | 'hardsigmoid' }
  /** `parts` equal parts along `axis` of the per-sample shape (ShuffleNet's channel split, ViT's q/k/v split) */
  | { kind: 'split'; shape: readonly number[]; axis: number; parts: number }
  /** token 0 of [tokens, d] (ViT's class token) */
  | { kind: 'gather'; tokens: number; d: number }
  /**
   * one product of attention as torch's multi-head attention exports it, heads folded with the
   * batch ([tokens, batch·heads, dh] operands): 'scores' = (q/√dh)·kᵀ, 'context' = p·v
   * (ORT: FusedMatMul with the transposes and the scale as flags)
   */
  | { kind: 'attention'; product: 'scores' | 'context'; heads: number; tokens: number; dh: number };

export type SampleKind = KernelSample['kind'];

/**
 * The version of the sample graphs: a campaign stores it with each sample (`spec.graph`), and
 * samples of another version are profiled again and left out of training. 2: every graph input is
 * read through a Neg and every result written to the graph output through one, so the sampled
 * kernels read and write tensors as inside a network; 1 (absent): they read the graph input
 * directly (1.9× their in-network time for the first kernel, summed over 478 kernels timed both ways).
 */
export const SAMPLE_GRAPH_VERSION = 2;

/** whether a stored sample's spec was profiled on this version's graphs */
export function isCurrentSampleSpec(spec: unknown): boolean {
  return typeof spec === 'object' && spec !== null && (spec as { graph?: unknown }).graph === SAMPLE_GRAPH_VERSION;
}

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
  /**
   * A graph input as the sampled kernel reads it: through a Neg, so it reads a tensor a kernel
   * just wrote, as inside a network (read straight from the graph input, the first kernel ran at
   * 1.9× its in-network time, summed over 478 kernels timed both ways). Neg has no fusion in ORT.
   */
  input(dims: readonly number[]): string {
    const name = this.inputs.length === 0 ? 'input' : `input${this.inputs.length}`;
    this.inputs.push(valueInfo(name, dims));
    return this.node('Neg', [name]);
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
  int64Scalar(v: number): string {
    const name = this.name('index');
    this.inits.push({ name, dims: [], dataType: onnx.TensorProto.DataType.INT64, rawData: new Uint8Array(new BigInt64Array([BigInt(v)]).buffer) });
    return name;
  }
  /** a node; with `outputs` > 1 its outputs are `<name>`, `<name>_1`, … and the first is returned */
  node(op: string, inputs: string[], attrs: Attr[] = [], outputs = 1): string {
    const o = this.name(op.toLowerCase());
    const names = Array.from({ length: outputs }, (_, i) => (i === 0 ? o : `${o}_${i}`));
    this.nodes.push({ opType: op, input: inputs, output: names, name: `n_${o}`, attribute: attrs });
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
      case 'hardsigmoid':
        // torch's hardsigmoid: clip(x/6 + 1/2, 0, 1)
        return this.node('HardSigmoid', [x], [float('alpha', 1 / 6), float('beta', 0.5)]);
      case 'silu':
        // x·sigmoid(x), as torch exports SiLU/Swish; ORT fuses it into com.microsoft:QuickGelu
        return this.node('Mul', [x, this.node('Sigmoid', [x])]);
      case 'gelu': {
        // x·0.5·(1 + erf(x/√2)), as torch exports it; ORT fuses it into com.microsoft:Gelu
        const e = this.node('Erf', [this.node('Div', [x, this.scalar(Math.SQRT2)])]);
        return this.node('Mul', [this.node('Mul', [x, this.node('Add', [e, this.scalar(1)])]), this.scalar(0.5)]);
      }
    }
  }
}

/** a depthwise 3×3 conv, stride 1, with its bias */
function depthwise(g: Emitter, x: string, c: number, act: SampleActivation): string {
  const conv = g.node('Conv', [x, g.tensor([c, 1, 3, 3], Math.sqrt(3 / 9)), g.tensor([c], 0.05)], [
    ints('kernel_shape', [3, 3]), ints('strides', [1, 1]), ints('pads', [1, 1, 1, 1]), ints('dilations', [1, 1]), int('group', c),
  ]);
  return g.act(conv, act);
}

/** a 1×1 conv cin → cout with its bias */
function pointwise(g: Emitter, x: string, cin: number, cout: number): string {
  return g.node('Conv', [x, g.tensor([cout, cin, 1, 1], Math.sqrt(3 / cin)), g.tensor([cout], 0.05)], [
    ints('kernel_shape', [1, 1]), ints('strides', [1, 1]), ints('pads', [0, 0, 0, 0]), ints('dilations', [1, 1]), int('group', 1),
  ]);
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
      return s.op === 'mean' || s.flatten ? [batch, s.c] : [batch, s.c, 1, 1];
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
    case 'se':
      return [batch, s.c, s.hw, s.hw];
    case 'split':
      return [batch, ...s.shape.map((d, i) => (i === s.axis ? d / s.parts : d))];
    case 'gather':
      return [batch, s.d];
    case 'attention':
      return [batch * s.heads, s.tokens, s.product === 'scores' ? s.tokens : s.dh];
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
    case 'globalpool': {
      const x = g.input([batch, s.c, s.hw, s.hw]);
      const from = s.from === 'dwconv' ? g.act(depthwise(g, x, s.c, 'none'), 'relu') : x;
      if (s.op === 'mean') {
        if (s.flatten) throw new RangeError(`globalpool sample: 'flatten' goes with GlobalAveragePool, not ReduceMean (its result is already flat)`);
        y = g.node('ReduceMean', [from], [ints('axes', [2, 3]), int('keepdims', 0)]);
      } else {
        const pooled = g.node('GlobalAveragePool', [from]);
        y = s.flatten ? g.node('Flatten', [pooled], [int('axis', 1)]) : pooled;
      }
      break;
    }
    case 'gemm':
      y = g.act(g.node('Gemm', [g.input([batch, s.in]), g.tensor([s.out, s.in], Math.sqrt(3 / s.in)), g.tensor([s.out], 0.05)], [int('transB', 1)]), s.act);
      break;
    case 'matmul': {
      const a = g.input([batch, ...s.a]);
      const k = s.a[s.a.length - 1] as number;
      const b = s.weights ? g.tensor(s.b, Math.sqrt(3 / k)) : g.input([batch, ...s.b]);
      y = g.node('MatMul', [a, b]);
      // a linear layer as torch exports it (MatMul + Add of its bias): ORT runs it as one Gemm
      if (s.bias) y = g.node('Add', [y, g.tensor([s.b[s.b.length - 1] as number], 0.05)]);
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
    case 'layernorm': {
      const x = g.input([batch, s.tokens, s.d]);
      const sum = s.skip ? g.node('Add', [x, g.input([batch, s.tokens, s.d])]) : x;
      y = g.node('LayerNormalization', [sum, g.tensor([s.d], 0.1, 1), g.tensor([s.d], 0.1)], [int('axis', -1), float('epsilon', 1e-5)]);
      break;
    }
    case 'batchnorm': {
      const input = g.input([batch, s.c, s.hw, s.hw]);
      const x = s.from === 'pool' ? g.node('MaxPool', [input], [ints('kernel_shape', [3, 3]), ints('strides', [1, 1]), ints('pads', [1, 1, 1, 1])]) : input;
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
    case 'se': {
      const x = g.input([batch, s.c, s.hw, s.hw]);
      const dw = g.act(depthwise(g, x, s.c, 'none'), s.act);
      const pooled = g.node('GlobalAveragePool', [dw]);
      const reduce = g.act(pointwise(g, pooled, s.c, s.squeeze), s.act === 'silu' ? 'silu' : 'relu');
      const gate = g.act(pointwise(g, reduce, s.squeeze, s.c), s.gate);
      y = g.node('Mul', [gate, dw]);
      break;
    }
    case 'split': {
      const dim = s.shape[s.axis];
      if (dim === undefined || !Number.isInteger(s.parts) || s.parts < 2 || dim % s.parts !== 0) throw new RangeError(`split sample: ${s.parts} equal parts of axis ${s.axis} of [${s.shape.join(', ')}]`);
      const x = g.input([batch, ...s.shape]);
      y = g.node('Split', [x, g.int64s(Array.from({ length: s.parts }, () => dim / s.parts))], [int('axis', s.axis + 1)], s.parts);
      break;
    }
    case 'gather':
      y = g.node('Gather', [g.input([batch, s.tokens, s.d]), g.int64Scalar(0)], [int('axis', 1)]);
      break;
    case 'attention': {
      const heads = batch * s.heads;
      if (s.product === 'scores') {
        // q: [T, B·H, dh] → [B·H, T, dh], / √dh; k: → [B·H, dh, T]
        const q = g.node('Div', [g.node('Transpose', [g.input([s.tokens, heads, s.dh])], [ints('perm', [1, 0, 2])]), g.scalar(Math.sqrt(s.dh))]);
        const k = g.node('Transpose', [g.input([s.tokens, heads, s.dh])], [ints('perm', [1, 2, 0])]);
        y = g.node('MatMul', [q, k]);
      } else {
        const p = g.input([heads, s.tokens, s.tokens]);
        y = g.node('MatMul', [p, g.node('Transpose', [g.input([s.tokens, heads, s.dh])], [ints('perm', [1, 0, 2])])]);
      }
      break;
    }
  }
  const head = g.nodes[g.nodes.length - 1] as onnxProto.onnx.INodeProto;
  if (head.output?.[0] !== y) throw new Error(`sample graph of '${s.kind}': its result is not the last node's output`);
  // every result is read by a Neg that writes the graph output: the sampled kernel writes into
  // the runtime's arena as inside a network (writing the graph output itself, 1.28× its in-network time)
  const outputs = head.output.map((r, i) => {
    const o = i === 0 ? 'output' : `output${i}`;
    g.nodes.push({ opType: 'Neg', input: [r], output: [o], name: `n_out_${i}`, attribute: [] });
    return o;
  });
  const outShape = sampleOutputShape(s, batch);
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'hwlat-kernel-campaign',
    opsetImport: [{ domain: '', version: OPSET }],
    graph: { name: 'kernel-sample', node: g.nodes, initializer: g.inits, input: g.inputs, output: outputs.map((name) => valueInfo(name, outShape)) },
  });
  return onnx.ModelProto.encode(model).finish();
}
