import * as ort from 'onnxruntime-node';
import seedrandom from 'seedrandom';

/** Symbolic (dynamic) dimensions are measured at 1: latency tables are per batch, batch 1 unless a spec says otherwise. */
export function concreteShape(shape: ReadonlyArray<number | string>): number[] {
  return shape.map((d) => (typeof d === 'number' && d > 0 ? d : 1));
}

/**
 * Input tensors for every session input, filled with seeded pseudo-random values so two runs of
 * the same model see the same data (values can change latency, e.g. denormals or NaN paths).
 */
export function makeFeeds(session: ort.InferenceSession): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const meta of session.inputMetadata) {
    if (!meta.isTensor) {
      throw new TypeError(`model input '${meta.name}' is not a tensor; only tensor inputs can be fed`);
    }
    const dims = concreteShape(meta.shape);
    feeds[meta.name] = makeTensor(meta.name, meta.type, dims);
  }
  return feeds;
}

function makeTensor(name: string, type: ort.Tensor.Type, dims: number[]): ort.Tensor {
  const size = dims.reduce((a, b) => a * b, 1);
  const rng = seedrandom(`hwlat-input:${name}`);
  switch (type) {
    case 'float32':
    case 'float64': {
      const data = type === 'float32' ? new Float32Array(size) : new Float64Array(size);
      for (let i = 0; i < size; i++) data[i] = rng() * 2 - 1;
      return new ort.Tensor(type, data, dims);
    }
    // Integer inputs are usually indices or shapes: zeros are always in range.
    case 'int32':
      return new ort.Tensor(type, new Int32Array(size), dims);
    case 'int64':
      return new ort.Tensor(type, new BigInt64Array(size), dims);
    case 'int8':
      return new ort.Tensor(type, new Int8Array(size), dims);
    case 'uint8':
      return new ort.Tensor(type, new Uint8Array(size), dims);
    case 'bool':
      return new ort.Tensor(type, new Uint8Array(size), dims);
    default:
      throw new TypeError(`model input '${name}' has type '${type}', which hwlat cannot fill yet`);
  }
}
