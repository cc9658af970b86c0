import * as ort from 'onnxruntime-node';

/** Runs ONNX bytes once on constant inputs with a real onnxruntime-node CPU session. */
export async function runOnnx(
  bytes: Uint8Array,
  inputs: ReadonlyArray<readonly number[]>,
): Promise<{ dims: readonly number[]; data: Float32Array }> {
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
  try {
    const feeds: Record<string, ort.Tensor> = {};
    session.inputNames.forEach((name, i) => {
      const dims = inputs[i] as readonly number[];
      const data = new Float32Array(dims.reduce((a, b) => a * b, 1));
      for (let j = 0; j < data.length; j++) data[j] = Math.sin(j * 0.37) * 0.5;
      feeds[name] = new ort.Tensor('float32', data, dims);
    });
    const out = await session.run(feeds);
    const t = out[session.outputNames[0] as string] as ort.Tensor;
    return { dims: t.dims, data: t.data as Float32Array };
  } finally {
    await session.release();
  }
}
