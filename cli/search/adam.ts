import { tf } from '../../predictor/index.ts';

/**
 * Adam whose state is kept per variable, so each step may update a different subset (a
 * weight-sharing supernet trains only the sampled paths; tfjs's Adam indexes its state by position
 * in the step's variable list, which mixes up the moments of different candidates).
 */
export class SparseAdam {
  private readonly state = new Map<tf.Variable, { m: tf.Tensor; v: tf.Tensor; t: number }>();

  constructor(
    private readonly lr: number,
    private readonly beta1 = 0.9,
    private readonly beta2 = 0.999,
    private readonly eps = 1e-8,
  ) {}

  /** One step on `vars`: returns the loss value. Variables the loss does not reach are left alone. */
  step(loss: () => tf.Scalar, vars: readonly tf.Variable[]): number {
    const { value, grads } = tf.variableGrads(loss, [...vars]);
    const out = value.dataSync()[0] as number;
    value.dispose();
    for (const variable of vars) {
      const g = grads[variable.name];
      if (!g) continue;
      let s = this.state.get(variable);
      if (!s) {
        s = { m: tf.keep(tf.zerosLike(variable)), v: tf.keep(tf.zerosLike(variable)), t: 0 };
        this.state.set(variable, s);
      }
      const st = s;
      st.t++;
      const [m, v] = tf.tidy(() => {
        const m1 = tf.add(tf.mul(st.m, this.beta1), tf.mul(g, 1 - this.beta1));
        const v1 = tf.add(tf.mul(st.v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
        const mHat = tf.div(m1, 1 - Math.pow(this.beta1, st.t));
        const vHat = tf.div(v1, 1 - Math.pow(this.beta2, st.t));
        variable.assign(tf.sub(variable, tf.mul(tf.div(mHat, tf.add(tf.sqrt(vHat), this.eps)), this.lr)));
        return [tf.keep(m1), tf.keep(v1)];
      });
      st.m.dispose();
      st.v.dispose();
      st.m = m as tf.Tensor;
      st.v = v as tf.Tensor;
    }
    for (const g of Object.values(grads)) g.dispose();
    return out;
  }

  dispose(): void {
    for (const s of this.state.values()) {
      s.m.dispose();
      s.v.dispose();
    }
    this.state.clear();
  }
}
