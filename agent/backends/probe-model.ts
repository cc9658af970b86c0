// onnx-proto is CommonJS: its namespace comes through the default import under NodeNext.
import onnxProto from 'onnx-proto';
import seedrandom from 'seedrandom';

const { onnx } = onnxProto;

/** A graph input or output: name and shape; a string dimension is symbolic (dynamic). */
export interface ValueSpec {
  name: string;
  shape?: ReadonlyArray<number | string>;
}

/** A constant float32 weight; `data` is generated deterministically from `seed` when omitted. */
export interface InitializerSpec {
  name: string;
  dims: readonly number[];
  data?: Float32Array;
  seed?: string;
}

/** One ONNX node with float32 inputs, enough to build probe and benchmark models. */
export interface SingleNodeSpec {
  opType: string;
  inputs: readonly ValueSpec[];
  initializers?: readonly InitializerSpec[];
  output: ValueSpec;
  /** INT attributes from numbers, INTS attributes from arrays */
  attributes?: Readonly<Record<string, number | readonly number[]>>;
  /** default 17: old enough for every runtime hwlat targets, new enough for the ops it builds */
  opset?: number;
}

// IR version 8 is what opset 17 shipped with; newer IRs are refused by older runtimes.
const IR_VERSION = 8;
const FLOAT = onnx.TensorProto.DataType.FLOAT;

function valueInfo(v: ValueSpec): InstanceType<typeof onnx.ValueInfoProto> {
  const dim = (v.shape ?? []).map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  return onnx.ValueInfoProto.create({
    name: v.name,
    type: { tensorType: { elemType: FLOAT, shape: v.shape ? { dim } : null } },
  });
}

function initializer(spec: InitializerSpec): InstanceType<typeof onnx.TensorProto> {
  const size = spec.dims.reduce((a, b) => a * b, 1);
  let data = spec.data;
  if (data === undefined) {
    // Weights are random but reproducible so the same spec always yields the same bytes.
    const rng = seedrandom(spec.seed ?? spec.name);
    data = new Float32Array(size);
    for (let i = 0; i < size; i++) data[i] = rng() * 2 - 1;
  } else if (data.length !== size) {
    throw new RangeError(`initializer '${spec.name}' needs ${size} values for dims [${spec.dims.join(', ')}], got ${data.length}`);
  }
  return onnx.TensorProto.create({
    name: spec.name,
    dims: [...spec.dims],
    dataType: FLOAT,
    rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  });
}

function attribute(name: string, value: number | readonly number[]): InstanceType<typeof onnx.AttributeProto> {
  if (typeof value === 'number') {
    return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INT, i: value });
  }
  return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: [...value] });
}

/**
 * Serialises a one-node ONNX model. Graph inputs are the non-initializer inputs.
 *
 * @example
 * const bytes = buildSingleNodeModel({
 *   opType: 'MatMul',
 *   inputs: [{ name: 'a', shape: [1, 64] }, { name: 'w' }],
 *   initializers: [{ name: 'w', dims: [64, 32] }],
 *   output: { name: 'y', shape: [1, 32] },
 * });
 * // bytes: Uint8Array, loadable by any onnxruntime backend
 */
export function buildSingleNodeModel(spec: SingleNodeSpec): Uint8Array {
  if (typeof spec?.opType !== 'string' || spec.opType === '') {
    throw new TypeError(`'opType' must be a non-empty string, got ${String(spec?.opType)}`);
  }
  const inits = spec.initializers ?? [];
  const initNames = new Set(inits.map((i) => i.name));
  const graph = onnx.GraphProto.create({
    name: `hwlat-${spec.opType.toLowerCase()}`,
    node: [
      onnx.NodeProto.create({
        opType: spec.opType,
        input: spec.inputs.map((i) => i.name),
        output: [spec.output.name],
        attribute: Object.entries(spec.attributes ?? {}).map(([k, v]) => attribute(k, v)),
      }),
    ],
    initializer: inits.map(initializer),
    input: spec.inputs.filter((i) => !initNames.has(i.name)).map(valueInfo),
    output: [valueInfo(spec.output)],
  });
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    producerName: 'hwlat',
    opsetImport: [{ domain: '', version: spec.opset ?? 17 }],
    graph,
  });
  return onnx.ModelProto.encode(model).finish();
}

/**
 * The provider probe: one Relu over a [N, 16] float input with a dynamic batch dimension, so it
 * also exercises how backends resolve symbolic dimensions.
 *
 * @example
 * const session = await ort.InferenceSession.create(probeModel());
 */
export function probeModel(): Uint8Array {
  return buildSingleNodeModel({
    opType: 'Relu',
    inputs: [{ name: 'x', shape: ['N', 16] }],
    output: { name: 'y', shape: ['N', 16] },
  });
}
