import type { InferenceSession, Tensor } from 'onnxruntime-common';
import seedrandom from 'seedrandom';

/** Symbolic (dynamic) dimensions are measured at 1: latency tables are per batch, batch 1 unless a spec says otherwise. */
export function concreteShape(shape: ReadonlyArray<number | string>): number[] {
  return shape.map((d) => (typeof d === 'number' && d > 0 ? d : 1));
}

/**
 * The Tensor class of one onnxruntime package. onnxruntime-node and onnxruntime-web each register
 * their own copy of onnxruntime-common, so a tensor must be made with the runtime's own class.
 */
export type TensorClass = new (type: Tensor.Type, data: Tensor.DataType, dims: readonly number[]) => Tensor;

/**
 * Input tensors for every session input, filled with seeded pseudo-random values so two runs of
 * the same model see the same data (values can change latency, e.g. denormals or NaN paths).
 * Runtime-agnostic (no onnxruntime import): ort-node and ort-web, in Node or the browser, share it.
 *
 * @example
 * import * as ort from 'onnxruntime-web';
 * const session = await ort.InferenceSession.create(probeModel());
 * await session.run(makeFeedsWith(ort.Tensor, session));
 */
export function makeFeedsWith(TensorCtor: TensorClass, session: Pick<InferenceSession, 'inputMetadata'>): Record<string, Tensor> {
  const feeds: Record<string, Tensor> = {};
  for (const meta of session.inputMetadata) {
    if (!meta.isTensor) {
      throw new TypeError(`model input '${meta.name}' is not a tensor; only tensor inputs can be fed`);
    }
    feeds[meta.name] = makeTensor(TensorCtor, meta.name, meta.type, concreteShape(meta.shape));
  }
  return feeds;
}

function makeTensor(TensorCtor: TensorClass, name: string, type: Tensor.Type, dims: number[]): Tensor {
  const size = dims.reduce((a, b) => a * b, 1);
  const rng = seedrandom(`hwlat-input:${name}`);
  switch (type) {
    case 'float32':
    case 'float64': {
      const data = type === 'float32' ? new Float32Array(size) : new Float64Array(size);
      for (let i = 0; i < size; i++) data[i] = rng() * 2 - 1;
      return new TensorCtor(type, data, dims);
    }
    // Integer inputs are usually indices or shapes: zeros are always in range.
    case 'int32':
      return new TensorCtor(type, new Int32Array(size), dims);
    case 'int64':
      return new TensorCtor(type, new BigInt64Array(size), dims);
    case 'int8':
      return new TensorCtor(type, new Int8Array(size), dims);
    case 'uint8':
      return new TensorCtor(type, new Uint8Array(size), dims);
    case 'bool':
      return new TensorCtor(type, new Uint8Array(size), dims);
    default:
      throw new TypeError(`model input '${name}' has type '${type}', which hwlat cannot fill yet`);
  }
}
