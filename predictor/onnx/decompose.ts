import onnxProto from 'onnx-proto';
import { numel, outputShape, specKey, validateSpec, type Activation, type Chw, type OpSpec, type Shape } from '../../ops-library/index.ts';
import { OnnxFormatError, UnsupportedOnnxError } from './errors.ts';
import type { OnnxDecomposition, OnnxKernel } from './types.ts';

const { onnx } = onnxProto;
type NodeProto = onnxProto.onnx.INodeProto;
type TensorProto = onnxProto.onnx.ITensorProto;

/** ONNX operators that become kernels (with what they fuse) or cost nothing. */
const KERNEL_OPS = Object.freeze([
  'Conv', 'BatchNormalization', 'Relu', 'Clip', 'HardSwish', 'Sigmoid', 'MaxPool', 'AveragePool', 'GlobalAveragePool',
  'Gemm', 'MatMul', 'Add', 'Mul', 'Concat',
  // only as Reshape → Transpose → Reshape, a channel shuffle
  'Transpose',
]);
const FREE_OPS = Object.freeze(['Flatten', 'Reshape', 'Identity', 'Dropout', 'Constant']);
export const SUPPORTED_ONNX_OPS: readonly string[] = Object.freeze([...KERNEL_OPS, ...FREE_OPS]);

/** protobufjs gives int64 as Long objects (or numbers); every ONNX int here fits a double. */
const num = (v: unknown): number =>
  typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : v && typeof (v as { toNumber?: unknown }).toNumber === 'function' ? (v as { toNumber(): number }).toNumber() : Number(v);

function attr(node: NodeProto, name: string) {
  return node.attribute?.find((a) => a.name === name);
}
const attrInts = (node: NodeProto, name: string): number[] | undefined => attr(node, name)?.ints?.map(num);
const attrInt = (node: NodeProto, name: string, dflt: number): number => {
  const a = attr(node, name);
  return a && a.i !== undefined && a.i !== null ? num(a.i) : dflt;
};

/** Values of a small constant tensor (Clip bounds, Reshape shapes, Mul scalars). */
function tensorValues(t: TensorProto): number[] {
  const type = t.dataType ?? 0;
  if (t.rawData && t.rawData.length > 0) {
    const raw = t.rawData;
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    if (type === onnx.TensorProto.DataType.FLOAT) return Array.from({ length: raw.byteLength / 4 }, (_, i) => view.getFloat32(4 * i, true));
    if (type === onnx.TensorProto.DataType.INT64) return Array.from({ length: raw.byteLength / 8 }, (_, i) => Number(view.getBigInt64(8 * i, true)));
    if (type === onnx.TensorProto.DataType.INT32) return Array.from({ length: raw.byteLength / 4 }, (_, i) => view.getInt32(4 * i, true));
    return [];
  }
  if (t.floatData && t.floatData.length > 0) return Array.from(t.floatData);
  if (t.int64Data && t.int64Data.length > 0) return t.int64Data.map(num);
  if (t.int32Data && t.int32Data.length > 0) return Array.from(t.int32Data);
  return [];
}

/** The ops-library activation an ONNX activation node computes, or undefined for another node. */
function activationOf(node: NodeProto, constants: ReadonlyMap<string, TensorProto>): Activation | undefined {
  switch (node.opType) {
    case 'Relu':
      return 'relu';
    case 'HardSwish':
      return 'hswish';
    case 'Sigmoid':
      return 'sigmoid';
    case 'Clip': {
      // opset ≥ 11: bounds are inputs; before: attributes
      const bound = (i: number, name: string) => {
        const t = node.input?.[i] ? constants.get(node.input[i] as string) : undefined;
        if (t) return tensorValues(t)[0];
        const a = attr(node, name);
        return a?.f ?? undefined;
      };
      return bound(1, 'min') === 0 && bound(2, 'max') === 6 ? 'relu6' : undefined;
    }
    default:
      return undefined;
  }
}

/**
 * Decomposes an ONNX model into the kernels ONNX Runtime executes, as ops-library specs: a Conv
 * with the BatchNormalization and activation that follow it (and feed nothing else) is one kernel
 * (`conv_bn_act`; ORT folds the BN into the conv weights and fuses the activation), a bare Conv a
 * `conv2d`; pools, Gemm/MatMul with a constant weight (`linear`), Add and Concat map one to one;
 * Mul is costed as an elementwise add (same reads, writes and FLOPs per element, and ops-library
 * has no Mul spec); Reshape → Transpose → Reshape is a `channel_shuffle`. Flatten, Reshape,
 * Identity, Dropout and Constant cost nothing. Any other operator is an UnsupportedOnnxError
 * listing them all. Shapes are inferred from the graph's one input (NCHW, batch dropped) through
 * ops-library's own output shapes, so a spec and its key agree with what the profiler measures.
 *
 * @example
 * const bytes = buildOnnx(lowerNetwork(getSpace('nasbench201').expand(arch)));
 * decomposeOnnx(bytes).kernels.map((k) => k.key);
 */
export function decomposeOnnx(bytes: Uint8Array): OnnxDecomposition {
  if (!(bytes instanceof Uint8Array) || bytes.byteLength === 0) throw new OnnxFormatError(`'bytes' must be a non-empty ONNX model, got ${bytes?.byteLength ?? 0} bytes`);
  let model: onnxProto.onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new OnnxFormatError(`'bytes' is not an ONNX model: ${(e as Error).message}`);
  }
  const graph = model.graph;
  if (!graph || !graph.node || graph.node.length === 0) throw new OnnxFormatError(`'bytes' is not an ONNX model with a graph of nodes`);
  const constants = new Map<string, TensorProto>((graph.initializer ?? []).map((t) => [t.name as string, t]));
  for (const n of graph.node) {
    const value = n.opType === 'Constant' ? attr(n, 'value')?.t : undefined;
    if (value && n.output?.[0]) constants.set(n.output[0], value);
  }
  const unsupported = [...new Set(graph.node.map((n) => n.opType as string).filter((t) => !SUPPORTED_ONNX_OPS.includes(t)))];
  if (unsupported.length > 0) throw new UnsupportedOnnxError(unsupported, SUPPORTED_ONNX_OPS);

  const inputs = (graph.input ?? []).filter((v) => !constants.has(v.name as string));
  if (inputs.length !== 1) throw new OnnxFormatError(`the graph must have exactly one input besides its weights, got ${inputs.length}`);
  const input = inputs[0] as onnxProto.onnx.IValueInfoProto;
  const dims = input.type?.tensorType?.shape?.dim ?? [];
  const inShape = dims.slice(1).map((d) => num(d.dimValue));
  if (dims.length !== 4 || inShape.some((d) => !(d > 0))) {
    throw new OnnxFormatError(`the graph input '${input.name}' must be NCHW with fixed C, H and W, got [${dims.map((d) => d.dimParam || num(d.dimValue)).join(', ')}]`);
  }

  const shapes = new Map<string, Shape>([[input.name as string, inShape]]);
  const consumers = new Map<string, NodeProto[]>();
  for (const n of graph.node) for (const i of n.input ?? []) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  const outputs = new Set((graph.output ?? []).map((o) => o.name as string));
  /** the single node reading `tensor`, when nothing else (graph output included) reads it */
  const onlyConsumer = (tensor: string) => {
    const c = consumers.get(tensor) ?? [];
    return c.length === 1 && !outputs.has(tensor) ? (c[0] as NodeProto) : undefined;
  };
  const shapeOf = (name: string | null | undefined, node: NodeProto): Shape => {
    const s = name ? shapes.get(name) : undefined;
    if (!s) throw new OnnxFormatError(`node '${node.name || node.opType}' reads '${name}', whose shape is unknown (is the graph in topological order?)`);
    return s;
  };
  const chw = (s: Shape, node: NodeProto): Chw => {
    if (s.length !== 3) throw new OnnxFormatError(`node '${node.name || node.opType}' (${node.opType}) needs a C×H×W input, got [${s.join(', ')}]`);
    return s as unknown as Chw;
  };

  const kernels: OnnxKernel[] = [];
  const free: string[] = [];
  const fused = new Set<NodeProto>();
  const emit = (nodes: NodeProto[], spec: OpSpec, note?: string) => {
    validateSpec(spec);
    const out = outputShape(spec);
    shapes.set((nodes[nodes.length - 1] as NodeProto).output?.[0] as string, out);
    kernels.push({ nodes: nodes.map((n) => n.name || (n.opType as string)), opTypes: nodes.map((n) => n.opType as string), spec, key: specKey(spec), ...(note ? { note } : {}) });
  };

  for (const node of graph.node) {
    if (fused.has(node)) continue;
    const x = node.input?.[0];
    const out = node.output?.[0] as string;
    switch (node.opType) {
      case 'Conv': {
        const w = constants.get(node.input?.[1] as string);
        if (!w) throw new OnnxFormatError(`Conv '${node.name}' needs a constant weight`);
        const wd = (w.dims ?? []).map(num);
        const input = chw(shapeOf(x, node), node);
        const kernel = wd[2] as number;
        const stride = attrInts(node, 'strides')?.[0] ?? 1;
        const pads = attrInts(node, 'pads') ?? [0, 0, 0, 0];
        const dilation = attrInts(node, 'dilations')?.[0] ?? 1;
        const groups = attrInt(node, 'group', 1);
        if (wd[3] !== kernel || new Set(pads).size > 1 || (attrInts(node, 'strides') ?? [stride, stride]).some((s) => s !== stride)) {
          throw new OnnxFormatError(`Conv '${node.name}': only square kernels with equal strides and pads are supported (kernel ${wd.slice(2).join('x')}, pads ${pads.join(',')})`);
        }
        const padding = pads[0] as number;
        const chain = [node];
        let tail = out;
        const bn = onlyConsumer(tail);
        if (bn?.opType === 'BatchNormalization') {
          chain.push(bn);
          tail = bn.output?.[0] as string;
        }
        const actNode = onlyConsumer(tail);
        const act = actNode ? activationOf(actNode, constants) : undefined;
        if (actNode && act) chain.push(actNode);
        const same = dilation === 1 && padding === Math.floor(kernel / 2);
        if (chain.length > 1 && same) {
          chain.forEach((n) => fused.add(n));
          emit(chain, { op: 'conv_bn_act', input, out: wd[0] as number, kernel, stride, groups, act: act ?? 'none' });
        } else {
          emit([node], { op: 'conv2d', input, out: wd[0] as number, kernel, stride, padding, groups, dilation, bias: (node.input?.length ?? 0) > 2 });
        }
        break;
      }
      case 'BatchNormalization':
        emit([node], { op: 'batchnorm', input: chw(shapeOf(x, node), node) });
        break;
      case 'Relu':
      case 'Clip':
      case 'HardSwish':
      case 'Sigmoid': {
        const act = activationOf(node, constants);
        if (!act || act === 'hsigmoid') throw new OnnxFormatError(`${node.opType} '${node.name}': only Clip(0, 6) (ReLU6) is supported`);
        emit([node], { op: act, input: shapeOf(x, node) });
        break;
      }
      case 'MaxPool':
      case 'AveragePool': {
        const input = chw(shapeOf(x, node), node);
        const kernel = (attrInts(node, 'kernel_shape') ?? [1])[0] as number;
        // ONNX's default stride is 1 (ops-library's is the kernel): always pass it
        const stride = attrInts(node, 'strides')?.[0] ?? 1;
        const padding = attrInts(node, 'pads')?.[0] ?? 0;
        emit([node], { op: node.opType === 'MaxPool' ? 'maxpool' : 'avgpool', input, kernel, stride, padding });
        break;
      }
      case 'GlobalAveragePool':
        emit([node], { op: 'global_avgpool', input: chw(shapeOf(x, node), node) });
        break;
      case 'Gemm':
      case 'MatMul': {
        const w = constants.get(node.input?.[1] as string);
        const s = shapeOf(x, node);
        if (!w || s.length !== 1) throw new OnnxFormatError(`${node.opType} '${node.name}': only a flat input times a constant weight (a linear layer) is supported`);
        const wd = (w.dims ?? []).map(num);
        const transB = node.opType === 'Gemm' && attrInt(node, 'transB', 0) === 1;
        emit([node], { op: 'linear', input: [s[0] as number], out: (transB ? wd[0] : wd[1]) as number, bias: (node.input?.length ?? 0) > 2 });
        break;
      }
      case 'Add':
      case 'Mul': {
        const tensors = (node.input ?? []).filter((i) => !constants.has(i));
        const s = shapeOf(tensors[0], node);
        emit([node], { op: 'add', input: s, arity: Math.max(2, tensors.length) }, node.opType === 'Mul' ? 'Mul costed as an elementwise add' : undefined);
        break;
      }
      case 'Concat': {
        const parts = (node.input ?? []).map((i) => chw(shapeOf(i, node), node));
        if (attrInt(node, 'axis', 1) !== 1) throw new OnnxFormatError(`Concat '${node.name}': only channel concatenation (axis 1) is supported`);
        emit([node], { op: 'concat', input: parts[0] as Chw, channels: parts.slice(1).map((p) => p[0]) });
        break;
      }
      case 'Flatten':
        shapes.set(out, [numel(shapeOf(x, node))]);
        free.push(node.name || 'Flatten');
        break;
      case 'Reshape': {
        const s = shapeOf(x, node);
        const target = constants.get(node.input?.[1] as string);
        const want = target ? tensorValues(target).slice(1) : [];
        if (!target || want.length === 0) throw new OnnxFormatError(`Reshape '${node.name}' needs a constant shape`);
        // Reshape [g, C/g, H, W] → Transpose [0, 2, 1, 3, 4] → Reshape back: a channel shuffle (ShuffleNet, FBNet g2 blocks)
        const t = onlyConsumer(out);
        const back = t?.opType === 'Transpose' ? onlyConsumer(t.output?.[0] as string) : undefined;
        if (t && back?.opType === 'Reshape' && s.length === 3 && want.length === 4 && attrInts(t, 'perm')?.join(',') === '0,2,1,3,4') {
          [t, back].forEach((n) => fused.add(n));
          emit([node, t, back], { op: 'channel_shuffle', input: s as unknown as Chw, groups: want[0] as number });
          break;
        }
        const known = want.map((d, i) => (d === 0 ? (s[i] as number) : d));
        const rest = numel(s) / known.filter((d) => d !== -1).reduce((a, d) => a * d, 1);
        shapes.set(out, known.map((d) => (d === -1 ? rest : d)));
        free.push(node.name || 'Reshape');
        break;
      }
      case 'Transpose':
        throw new OnnxFormatError(`Transpose '${node.name}': only the channel shuffle (Reshape → Transpose [0,2,1,3,4] → Reshape) is supported`);
      case 'Identity':
      case 'Dropout':
        shapes.set(out, shapeOf(x, node));
        free.push(node.name || (node.opType as string));
        break;
      case 'Constant':
        free.push(node.name || 'Constant');
        break;
    }
  }
  return { input: inShape, kernels, free };
}
