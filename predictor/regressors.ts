import { initTf, tf } from './tf.ts';

/**
 * Small tfjs regressors. Inputs are scaled by a stored per-feature scale so training is well
 * conditioned; the scale travels with the weights.
 */
export interface RegressorSpec {
  inputs: number;
  /** hidden layer widths; [] = linear */
  hidden: number[];
  /** initial weights of a linear model (length inputs) and bias, e.g. "prediction = LUT sum" */
  init?: { kernel: number[]; bias: number };
  /** L2 penalty on the kernel, for many weakly informative inputs */
  l2?: number;
}

export interface FitOptions {
  epochs: number;
  batchSize?: number;
  learningRate?: number;
  /** 'relative': mean((ŷ−y)/y)², so every network counts by its relative error; 'mse' plain */
  loss: 'relative' | 'mse';
  onEpoch?: (epoch: number, loss: number) => void;
}

export function makeRegressor(spec: RegressorSpec): tf.LayersModel {
  const model = tf.sequential();
  spec.hidden.forEach((units, i) =>
    model.add(tf.layers.dense({ units, activation: 'relu', inputShape: i === 0 ? [spec.inputs] : undefined, kernelInitializer: 'heNormal' })),
  );
  model.add(tf.layers.dense({
    units: 1,
    inputShape: spec.hidden.length === 0 ? [spec.inputs] : undefined,
    kernelInitializer: 'zeros',
    kernelRegularizer: spec.l2 ? tf.regularizers.l2({ l2: spec.l2 }) : undefined,
  }));
  if (spec.init && spec.hidden.length === 0) {
    const last = model.layers[model.layers.length - 1] as tf.layers.Layer;
    last.setWeights([tf.tensor2d(spec.init.kernel, [spec.inputs, 1]), tf.tensor1d([spec.init.bias])]);
  }
  return model;
}

const relativeLoss = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.tidy(() => tf.mean(tf.square(tf.div(tf.sub(yPred, yTrue), yTrue))));

/** Trains on rows `x` (already scaled) and targets `y`. */
export async function fitRegressor(model: tf.LayersModel, x: number[][], y: number[], o: FitOptions): Promise<number> {
  await initTf();
  model.compile({ optimizer: tf.train.adam(o.learningRate ?? 0.01), loss: o.loss === 'relative' ? relativeLoss : 'meanSquaredError' });
  const xs = tf.tensor2d(x);
  const ys = tf.tensor2d(y, [y.length, 1]);
  try {
    const h = await model.fit(xs, ys, {
      epochs: o.epochs,
      batchSize: o.batchSize ?? Math.min(256, y.length),
      shuffle: true,
      verbose: 0,
      callbacks: o.onEpoch ? { onEpochEnd: (e, logs) => o.onEpoch?.(e, logs?.loss ?? NaN) } : undefined,
    });
    return (h.history.loss?.at(-1) as number) ?? NaN;
  } finally {
    xs.dispose();
    ys.dispose();
  }
}

interface DenseWeights {
  inputs: number;
  units: number;
  /** row-major [inputs, units] */
  kernel: Float32Array;
  bias: Float32Array;
  relu: boolean;
}

const denseCache = new WeakMap<tf.LayersModel, DenseWeights[]>();

/** The dense layers of a small MLP as plain arrays (these models are only dense layers). */
function denseWeights(model: tf.LayersModel): DenseWeights[] {
  let layers = denseCache.get(model);
  if (!layers) {
    layers = model.layers.map((layer) => {
      const [k, b] = layer.getWeights();
      const shape = (k as tf.Tensor).shape as [number, number];
      const cfg = layer.getConfig() as { activation?: string };
      return { inputs: shape[0], units: shape[1], kernel: (k as tf.Tensor).dataSync() as Float32Array, bias: (b as tf.Tensor).dataSync() as Float32Array, relu: cfg.activation === 'relu' };
    });
    denseCache.set(model, layers);
  }
  return layers;
}

/** Forward pass in plain JS: one tfjs call costs ~370 µs, a 30→64→64→1 MLP in JS ~9 µs. */
function forwardJs(layers: readonly DenseWeights[], x: Float32Array, rows: number): Float32Array {
  let cur = x;
  for (const l of layers) {
    const next = new Float32Array(rows * l.units);
    for (let r = 0; r < rows; r++) {
      for (let u = 0; u < l.units; u++) {
        let z = l.bias[u] as number;
        for (let i = 0; i < l.inputs; i++) {
          const v = cur[r * l.inputs + i] as number;
          if (v !== 0) z += v * (l.kernel[i * l.units + u] as number);
        }
        next[r * l.units + u] = l.relu && z < 0 ? 0 : z;
      }
    }
    cur = next;
  }
  return cur;
}

/** Batched prediction; rows already scaled. Small batches (a served request) run in plain JS. */
export function predictRows(model: tf.LayersModel, x: Float32Array, rows: number, inputs: number): Float32Array {
  if (rows <= 64) return forwardJs(denseWeights(model), x, rows);
  // one batch: predict()'s default batches of 32 slice the input tensor again and again (quadratic in wasm)
  return tf.tidy(() => (model.predict(tf.tensor2d(x, [rows, inputs]), { batchSize: Math.max(1, rows) }) as tf.Tensor).dataSync() as Float32Array);
}

/** Serialises a layers model to {topology, weightSpecs, weightData} for a model directory. */
export async function saveArtifacts(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let saved: tf.io.ModelArtifacts | null = null;
  await model.save(tf.io.withSaveHandler(async (a) => {
    saved = a;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  if (!saved) throw new Error('tfjs did not hand over the model artifacts');
  return saved;
}

export async function loadArtifacts(artifacts: tf.io.ModelArtifacts): Promise<tf.LayersModel> {
  await initTf();
  return tf.loadLayersModel(tf.io.fromMemory(artifacts));
}
