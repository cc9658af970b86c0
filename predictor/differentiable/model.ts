import { tf } from '../tf.ts';
import type { LatencyPredictor } from '../predictor.ts';
import { latencyParams } from './params.ts';
import type { ExpectedOptions, LatencyModelOptions, LatencyParams } from './types.ts';
import { checkProbs, flattenProbs } from './validate.ts';

/**
 * E[latency] of a search space under architecture probabilities, as a tfjs function that
 * `tf.grad` and optimisers differentiate: the LUT part Σ_l Σ_i p[l,i]·LUT[l,i] over the layers'
 * own shapes plus the predictor's learned network-level correction, evaluated on the same
 * probabilities (see LatencyParams for the formula). A one-hot grid gives exactly the predictor's
 * prediction of that architecture.
 *
 * @example
 * const model = await loadLatencyModel('models/fbnet');
 * const alpha = tf.variable(tf.zeros([model.layers, model.candidates]));
 * const lat = model.expected(tf.softmax(alpha));        // tf.Scalar, ms
 * const g = tf.grad((a) => model.expected(tf.softmax(a)))(alpha);
 */
export class LatencyModel {
  readonly params: LatencyParams;
  private readonly consts: tf.Tensor[] = [];
  private readonly scoresT: tf.Tensor2D;
  private readonly mlp: Array<{ kernel: tf.Tensor2D; bias: tf.Tensor1D; relu: boolean }>;
  /** enumerated form: per layer, the [candidates × archs] selection, and the [archs, 1] predictions */
  private readonly select: tf.Tensor2D[];
  private readonly archMsT: tf.Tensor2D | null;

  constructor(params: LatencyParams) {
    this.params = params;
    const keep = <T extends tf.Tensor>(x: T): T => {
      this.consts.push(tf.keep(x));
      return x;
    };
    const { layers: L, candidates: C } = params;
    this.scoresT = keep(tf.tensor2d(params.scores, [L * C, 1]));
    this.mlp = (params.mlp ?? []).map((d) => ({ kernel: keep(tf.tensor2d(d.kernel, [d.inputs, d.units])), bias: keep(tf.tensor1d(d.bias)), relu: d.relu }));
    this.select = [];
    this.archMsT = null;
    if (params.form === 'enumerated') {
      const archs = params.archs as Int32Array;
      const N = archs.length / L;
      for (let l = 0; l < L; l++) {
        const s = new Float32Array(C * N);
        for (let a = 0; a < N; a++) s[(archs[a * L + l] as number) * N + a] = 1;
        this.select.push(keep(tf.tensor2d(s, [C, N])));
      }
      this.archMsT = keep(tf.tensor2d(params.archMs as Float32Array, [N, 1]));
    }
  }

  /** Builds the model of a loaded predictor (kind: the predictor's chosen one unless given). */
  static fromPredictor(predictor: LatencyPredictor, options: LatencyModelOptions = {}): LatencyModel {
    return new LatencyModel(latencyParams(predictor, options));
  }

  get space(): string {
    return this.params.space;
  }

  get layers(): number {
    return this.params.layers;
  }

  get candidates(): number {
    return this.params.candidates;
  }

  /**
   * E[latency] in ms (a tf.Scalar) of probabilities `[layers, candidates]`: softmax,
   * Gumbel-softmax, or a two-path binarised row; padding columns 0. Throws a RangeError naming the
   * problem for a wrong shape, a negative value or a row not summing to 1 (unless validate: false).
   */
  expected(probs: tf.Tensor | number[][], options: ExpectedOptions = {}): tf.Scalar {
    const p = probs instanceof tf.Tensor ? probs : this.tensorOf(probs);
    if (options.validate ?? true) {
      if (p.rank !== 2 || p.shape[0] !== this.layers || p.shape[1] !== this.candidates) checkProbs(this.params, p.shape, []);
      checkProbs(this.params, p.shape, p.dataSync() as Float32Array);
    }
    const out = tf.tidy(() => this.forward(p as tf.Tensor2D));
    if (!(probs instanceof tf.Tensor)) p.dispose();
    return out;
  }

  /** E[latency] and its gradient w.r.t. the probabilities, as plain numbers (for servers and tests). */
  valueAndGrad(probs: number[][]): { latencyMs: number; grad: number[][] } {
    const p = this.tensorOf(probs);
    try {
      const r = tf.tidy(() => {
        const f = (x: tf.Tensor) => this.forward(x as tf.Tensor2D);
        const [v, g] = [f(p), tf.grad(f)(p)];
        return { v: v.dataSync()[0] as number, g: g.arraySync() as number[][] };
      });
      return { latencyMs: r.v, grad: r.g };
    } finally {
      p.dispose();
    }
  }

  /** Releases the model's constant tensors. */
  dispose(): void {
    for (const t of this.consts) t.dispose();
    this.consts.length = 0;
  }

  private tensorOf(probs: number[][]): tf.Tensor2D {
    const { shape, values } = flattenProbs(probs);
    checkProbs(this.params, shape, values);
    return tf.tensor2d(values, shape as [number, number]);
  }

  /** The formula of LatencyParams, in tfjs ops. */
  private forward(p: tf.Tensor2D): tf.Scalar {
    const { layers: L, candidates: C } = this.params;
    if (this.params.form === 'enumerated') {
      // P(arch) = Π_l p[l, arch_l]: row l of p picked by a [1, C] × [C, N] product
      const rows = tf.split(p, L, 0) as tf.Tensor2D[];
      let prob: tf.Tensor = tf.matMul(rows[0] as tf.Tensor2D, this.select[0] as tf.Tensor2D);
      for (let l = 1; l < L; l++) prob = tf.mul(prob, tf.matMul(rows[l] as tf.Tensor2D, this.select[l] as tf.Tensor2D));
      return tf.matMul(prob as unknown as tf.Tensor2D, this.archMsT as tf.Tensor2D).reshape([]) as tf.Scalar;
    }
    const flat = p.reshape([1, L * C]) as tf.Tensor2D;
    let h: tf.Tensor2D = flat;
    for (const d of this.mlp) {
      const z = tf.add(tf.matMul(h, d.kernel), d.bias) as tf.Tensor2D;
      h = d.relu ? tf.relu(z) : z;
    }
    let y: tf.Tensor;
    if (this.params.mlpMode === 'encoding') {
      y = tf.mul(h, this.params.yScale);
    } else {
      y = tf.add(tf.matMul(flat, this.scoresT), this.params.base);
      // the residual corrects by a factor max(0.1, 1 + r), written with relu so ONNX needs no Max
      if (this.params.mlpMode === 'residual') y = tf.mul(y, tf.add(tf.relu(tf.add(h, 0.9)), 0.1));
    }
    const floor = this.params.floorMs;
    if (floor !== null) y = tf.add(tf.relu(tf.sub(y, floor)), floor);
    return y.reshape([]) as tf.Scalar;
  }
}
