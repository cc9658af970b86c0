import onnxProto from 'onnx-proto';
import { OnnxFormatError } from './errors.ts';
import { SMALL_TENSOR_ELEMENTS, type AttrValue, type DType } from './types.ts';

const { onnx } = onnxProto;
export type ModelProto = onnxProto.onnx.ModelProto;
export type NodeProto = onnxProto.onnx.INodeProto;
export type TensorProto = onnxProto.onnx.ITensorProto;
type AttributeProto = onnxProto.onnx.IAttributeProto;

/** A constant tensor as read from the model: its data only when small (see SMALL_TENSOR_ELEMENTS). */
export interface ConstTensor {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data?: readonly number[];
}

/** An attribute as read from a node: plain values, or a tensor (Constant, ConstantOfShape). */
export type RawAttr = AttrValue | ConstTensor;

const DTYPES: Readonly<Record<number, DType>> = {
  1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 8: 'string',
  9: 'bool', 10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64', 16: 'bfloat16',
};

/** protobufjs gives int64 as Long objects (or numbers); every ONNX int used here fits a double. */
export const num = (v: unknown): number =>
  typeof v === 'number' ? v
  : typeof v === 'bigint' ? Number(v)
  : v && typeof (v as { toNumber?: unknown }).toNumber === 'function' ? (v as { toNumber(): number }).toNumber()
  : Number(v);

export function dtypeOf(code: number | null | undefined, what: string): DType {
  const t = DTYPES[code ?? 0];
  if (t === undefined) throw new OnnxFormatError(`${what} has an unknown element type code ${code ?? 0}`);
  return t;
}

/** Decodes ONNX model bytes, turning protobuf failures (not ONNX, truncated) into OnnxFormatError. */
export function decodeModel(bytes: Uint8Array): ModelProto {
  if (!(bytes instanceof Uint8Array)) throw new OnnxFormatError(`'bytes' must be a Uint8Array, got ${bytes === null ? 'null' : typeof bytes}`);
  if (bytes.byteLength === 0) throw new OnnxFormatError(`'bytes' is empty, not an ONNX model`);
  let model: ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new OnnxFormatError(`not an ONNX model, or a truncated one (${bytes.byteLength} bytes): ${(e as Error).message}`);
  }
  const graph = model.graph;
  if (!graph || !graph.node || graph.node.length === 0) throw new OnnxFormatError(`not an ONNX model: no graph with nodes (${bytes.byteLength} bytes)`);
  if (!model.opsetImport || model.opsetImport.length === 0) {
    throw new OnnxFormatError(`the model has no opset_import: a truncated file? (${bytes.byteLength} bytes)`);
  }
  if (!graph.output || graph.output.length === 0) throw new OnnxFormatError(`the graph has no outputs: a truncated file? (${bytes.byteLength} bytes)`);
  return model;
}

function readRaw(raw: Uint8Array, dtype: DType, n: number): number[] {
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const at = (size: number, get: (o: number) => number) => {
    if (raw.byteLength < n * size) throw new OnnxFormatError(`a tensor's raw data has ${raw.byteLength} bytes, ${n * size} expected`);
    return Array.from({ length: n }, (_, i) => get(i * size));
  };
  switch (dtype) {
    case 'float32': return at(4, (o) => v.getFloat32(o, true));
    case 'float64': return at(8, (o) => v.getFloat64(o, true));
    case 'float16': return at(2, (o) => half(v.getUint16(o, true)));
    case 'bfloat16': return at(2, (o) => new Float32Array(new Uint32Array([v.getUint16(o, true) << 16]).buffer)[0] as number);
    case 'int8': return at(1, (o) => v.getInt8(o));
    case 'uint8': return at(1, (o) => v.getUint8(o));
    case 'bool': return at(1, (o) => (v.getUint8(o) ? 1 : 0));
    case 'int16': return at(2, (o) => v.getInt16(o, true));
    case 'uint16': return at(2, (o) => v.getUint16(o, true));
    case 'int32': return at(4, (o) => v.getInt32(o, true));
    case 'uint32': return at(4, (o) => v.getUint32(o, true));
    case 'int64': return at(8, (o) => Number(v.getBigInt64(o, true)));
    case 'uint64': return at(8, (o) => Number(v.getBigUint64(o, true)));
    case 'string': return [];
  }
}

function half(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/**
 * A tensor's type, dims and (when it has at most SMALL_TENSOR_ELEMENTS elements and carries its
 * data) its elements. Data held outside the file (external data, `hwlat onnx strip`) is left out.
 */
export function readTensor(t: TensorProto, what: string): ConstTensor {
  const dtype = dtypeOf(t.dataType, what);
  const shape = (t.dims ?? []).map(num);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw new OnnxFormatError(`${what} has invalid dims [${shape.join(', ')}]`);
  const n = shape.reduce((a, b) => a * b, 1);
  if (n > SMALL_TENSOR_ELEMENTS || t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL || dtype === 'string') return { dtype, shape };
  let data: number[] | undefined;
  if (t.rawData && t.rawData.length > 0) data = readRaw(t.rawData, dtype, n);
  else if (t.floatData && t.floatData.length > 0) data = Array.from(t.floatData);
  else if (t.doubleData && t.doubleData.length > 0) data = Array.from(t.doubleData);
  else if (t.int64Data && t.int64Data.length > 0) data = t.int64Data.map(num);
  else if (t.uint64Data && t.uint64Data.length > 0) data = t.uint64Data.map(num);
  else if (t.int32Data && t.int32Data.length > 0) {
    // int32_data carries every small integer type, bool, and float16's bits
    data = dtype === 'float16' ? Array.from(t.int32Data, half) : Array.from(t.int32Data);
  } else if (n === 0) data = [];
  if (data === undefined) return { dtype, shape };
  if (data.length !== n) throw new OnnxFormatError(`${what} holds ${data.length} elements, its dims [${shape.join(', ')}] say ${n}`);
  return { dtype, shape, data };
}

/** A node's attributes as plain values (tensors decoded; subgraphs are refused by the caller). */
export function readAttrs(node: NodeProto, nodeName: string): Record<string, RawAttr | { graph: true }> {
  const out: Record<string, RawAttr | { graph: true }> = {};
  for (const a of node.attribute ?? []) out[a.name as string] = readAttr(a, `attribute '${a.name}' of node '${nodeName}'`);
  return out;
}

function readAttr(a: AttributeProto, what: string): RawAttr | { graph: true } {
  const T = onnx.AttributeProto.AttributeType;
  // old exporters leave `type` unset: take the populated field
  const type = a.type || (a.ints?.length ? T.INTS : a.floats?.length ? T.FLOATS : a.strings?.length ? T.STRINGS : a.t ? T.TENSOR : a.g ? T.GRAPH : a.s?.length ? T.STRING : a.f ? T.FLOAT : T.INT);
  switch (type) {
    case T.FLOAT: return a.f ?? 0;
    case T.INT: return num(a.i ?? 0);
    case T.STRING: return new TextDecoder().decode(a.s ?? new Uint8Array());
    case T.FLOATS: return Array.from(a.floats ?? []);
    case T.INTS: return (a.ints ?? []).map(num);
    case T.STRINGS: return (a.strings ?? []).map((s) => new TextDecoder().decode(s));
    case T.TENSOR: return readTensor(a.t ?? {}, what);
    case T.GRAPH:
    case T.GRAPHS: return { graph: true };
    default: throw new OnnxFormatError(`${what} has an unsupported attribute type ${type}`);
  }
}
