import seedrandom from 'seedrandom';
import { fbnetGeometry, type OpSpec, type SearchSpace } from '../../ops-library/index.ts';
import { tf } from '../../predictor/index.ts';
import { depthwise, pointwise, subsample } from './ops.ts';

/** A candidate's shape in the proxy supernet: an inverted-residual block, a 1×1 conv, or nothing. */
type CandidateKind =
  | { kind: 'block'; kernel: number; expand: number; groups: number }
  | { kind: 'conv1x1' }
  | { kind: 'none' };

interface Slot {
  cin: number;
  cout: number;
  stride: number;
  /** the layer adds its input (inverted-residual identity, FBNet same-shape layers, ProxylessNAS idskip) */
  residual: boolean;
  candidates: CandidateKind[];
}

export interface SupernetOptions {
  /** channels of the space divided by this (at least 4 per layer; default 4) */
  widthDivisor?: number;
  /** input image channels (default 1) and classes (default 10) */
  inChannels?: number;
  classes?: number;
  seed?: number;
}

/** The geometry a candidate unit spec describes; 'none' for a candidate without units. */
function candidateOf(units: readonly OpSpec[]): CandidateKind {
  const u = units[0];
  if (!u) return { kind: 'none' };
  if (u.op === 'fbnet_block') {
    const g = fbnetGeometry(u.block);
    return g ? { kind: 'block', ...g } : { kind: 'conv1x1' };
  }
  if (u.op === 'expanded_conv') return { kind: 'block', kernel: u.kernel, expand: u.expand, groups: 1 };
  throw new RangeError(`the search supernet has no proxy for unit op '${u.op}' (spaces of FBNet and ProxylessNAS blocks are supported)`);
}

function slotsOf(space: SearchSpace): Slot[] {
  if (space.positions.length === 0) throw new RangeError(`space '${space.name}' has no searchable positions`);
  if (!space.additive) throw new RangeError(`'space': the search supernet needs a layer-wise space (fbnet, fbnet-imagenet, proxyless-mobile), got '${space.name}'`);
  return space.positions.map((p) => {
    const spec = p.choices.flatMap((c) => c.units)[0] as (OpSpec & { input: [number, number, number]; out: number; stride: number }) | undefined;
    if (!spec) throw new RangeError(`${p.name} of '${space.name}' has no candidate with a unit to take its shape from`);
    const cin = spec.input[0];
    const residual = spec.op === 'expanded_conv' ? (spec as { idskip: boolean }).idskip : cin === spec.out && spec.stride === 1;
    return { cin, cout: spec.out, stride: spec.stride, residual, candidates: p.choices.map((c) => candidateOf(c.units)) };
  });
}

const heNormal = (shape: number[], fanIn: number, rng: () => number, gain = 1) => {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(n);
  const sd = gain * Math.sqrt(2 / fanIn);
  for (let i = 0; i < n; i++) v[i] = sd * Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  return tf.tensor(v, shape);
};

interface CandidateWeights {
  vars: tf.Variable[];
  apply(x: tf.Tensor4D): tf.Tensor4D;
}

/** Batch statistics normalisation without affine parameters (DARTS's supernet BN). */
const norm = (x: tf.Tensor4D): tf.Tensor4D => {
  const { mean, variance } = tf.moments(x, [0, 1, 2], true);
  return tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))) as tf.Tensor4D;
};

/**
 * A weight-sharing supernet over a space's positions and candidates at reduced width: every
 * candidate of every layer has its own weights, and a forward pass runs, per layer, a weighted
 * sum of a chosen subset of candidates (one sampled path for weight steps, two for ProxylessNAS's
 * binarised architecture steps, all for FBNet's Gumbel-softmax).
 */
export class Supernet {
  readonly layers: Slot[];
  readonly weights: CandidateWeights[][];
  private readonly stem: tf.Variable;
  private readonly stemDw: tf.Variable;
  private readonly head: { w: tf.Variable; b: tf.Variable };
  readonly sharedVars: tf.Variable[];

  constructor(readonly space: SearchSpace, o: SupernetOptions = {}) {
    const div = o.widthDivisor ?? 4;
    if (!(div >= 1)) throw new RangeError(`'widthDivisor' must be >= 1, got ${div}`);
    const rng = seedrandom.alea(`supernet-${space.name}-${o.seed ?? 0}`);
    const w = (c: number) => Math.max(8, Math.round(c / div));
    const real = slotsOf(space);
    this.layers = real.map((s) => ({ ...s, cin: w(s.cin), cout: w(s.cout) }));
    const c0 = (this.layers[0] as Slot).cin;
    // stem: 1×1 to the first width, then a depthwise 3×3 (see ops.ts for why no full conv)
    this.stem = tf.variable(heNormal([o.inChannels ?? 1, c0], o.inChannels ?? 1, rng));
    this.stemDw = tf.variable(heNormal([3, 3, c0, 1], 9, rng));
    const last = (this.layers.at(-1) as Slot).cout;
    this.head = { w: tf.variable(heNormal([last, o.classes ?? 10], last, rng, 0.5)), b: tf.variable(tf.zeros([o.classes ?? 10])) };
    this.sharedVars = [this.stem, this.stemDw, this.head.w, this.head.b];
    this.weights = this.layers.map((s) => this.makeLayer(s, rng));
  }

  /**
   * A layer's candidates share one set of weights, as in Once-for-All / single-path NAS: the
   * largest expansion's 1×1 matrices and the largest kernel's depthwise filter; a candidate uses
   * the first cin·e channels and the centred k×k window (grouped ones through a block-diagonal
   * mask). Every weight step then trains what every candidate of the layer uses, so a supernet of
   * 22 layers × 9 candidates learns in hundreds of steps instead of thousands.
   */
  private makeLayer(s: Slot, rng: () => number): CandidateWeights[] {
    const blocks = s.candidates.filter((c): c is Extract<CandidateKind, { kind: 'block' }> => c.kind === 'block');
    const E = Math.max(1, ...blocks.map((c) => c.expand));
    const K = Math.max(1, ...blocks.map((c) => c.kernel));
    const midMax = s.cin * E;
    const expandW = E > 1 ? tf.variable(heNormal([s.cin, midMax], s.cin, rng)) : null;
    const dwW = blocks.length > 0 ? tf.variable(heNormal([K, K, midMax, 1], 9, rng)) : null;
    const projectW = blocks.length > 0 ? tf.variable(heNormal([midMax, s.cout], s.cin * 3, rng)) : null;
    const masks = new Map<string, tf.Tensor2D>();
    const mask = (a: number, b: number, g: number) => {
      const key = `${a}x${b}/${g}`;
      let m = masks.get(key);
      if (!m) {
        const v = new Float32Array(a * b);
        for (let i = 0; i < a; i++) for (let j = 0; j < b; j++) if (Math.floor((i * g) / a) === Math.floor((j * g) / b)) v[i * b + j] = 1;
        masks.set(key, (m = tf.keep(tf.tensor2d(v, [a, b]))));
      }
      return m;
    };
    const own = [expandW, dwW, projectW].filter((v): v is tf.Variable => v !== null);
    return s.candidates.map((c): CandidateWeights => {
      if (c.kind === 'none') {
        // identity where the layer keeps its shape: the branch adds nothing to the residual
        return { vars: [], apply: (x) => tf.zerosLike(x) };
      }
      if (c.kind === 'conv1x1') {
        const k = tf.variable(heNormal([s.cin, s.cout], s.cin, rng));
        return { vars: [k], apply: (x) => tf.relu(norm(pointwise(subsample(x, s.stride), k as tf.Tensor2D))) as tf.Tensor4D };
      }
      const g = c.groups;
      const mid = c.expand === 1 ? s.cin : s.cin * c.expand;
      const off = (K - c.kernel) / 2;
      return {
        vars: own,
        apply: (x) => {
          let h = x;
          if (c.expand > 1) {
            let w = tf.slice(expandW as tf.Tensor2D, [0, 0], [s.cin, mid]);
            if (g > 1) w = tf.mul(w, mask(s.cin, mid, g));
            h = tf.relu(pointwise(h, w)) as tf.Tensor4D;
            if (g > 1) {
              // channel shuffle between the grouped convs (FBNet's _g2 candidates)
              const [n, hh, ww, ch] = h.shape;
              h = tf.reshape(tf.transpose(tf.reshape(h, [n, hh, ww, g, ch / g]), [0, 1, 2, 4, 3]), [n, hh, ww, ch]) as tf.Tensor4D;
            }
          }
          const k = tf.slice(dwW as tf.Tensor4D, [off, off, 0, 0], [c.kernel, c.kernel, mid, 1]);
          // one normalisation per block (at its end) keeps the op count, i.e. tfjs's per-op overhead, low
          h = tf.relu(depthwise(h, k, s.stride)) as tf.Tensor4D;
          let p = tf.slice(projectW as tf.Tensor2D, [0, 0], [mid, s.cout]);
          if (g > 1) p = tf.mul(p, mask(mid, s.cout, g));
          return norm(pointwise(h, p));
        },
      };
    });
  }

  /** Per layer, its largest candidate (most expansion, then largest kernel): the warm-up path. */
  largestPaths(): number[][] {
    return this.layers.map((s) => {
      let best = 0;
      let score = -1;
      s.candidates.forEach((c, i) => {
        const v = c.kind === 'block' ? c.expand * 100 + c.kernel * 10 + (c.groups === 1 ? 1 : 0) : c.kind === 'conv1x1' ? 1 : 0;
        if (v > score) [best, score] = [i, v];
      });
      return [best];
    });
  }

  /** The variables a forward pass through `paths` (candidate indices per layer) trains. */
  varsOf(paths: ReadonlyArray<readonly number[]>): tf.Variable[] {
    const out = [...this.sharedVars];
    paths.forEach((cs, l) => cs.forEach((c) => out.push(...((this.weights[l] as CandidateWeights[])[c] as CandidateWeights).vars)));
    return [...new Set(out)];
  }

  /**
   * Logits of images `x` [n, h, w, channels] where layer l runs Σ_j mix[l][j]·candidate_{paths[l][j]}
   * (mix: a [k] tensor per layer, or null for a single path with weight 1).
   */
  logits(x: tf.Tensor4D, paths: ReadonlyArray<readonly number[]>, mix: ReadonlyArray<tf.Tensor1D | null>): tf.Tensor2D {
    let h = tf.relu(norm(depthwise(pointwise(x, this.stem as tf.Tensor2D), this.stemDw as tf.Tensor4D, 1))) as tf.Tensor4D;
    this.layers.forEach((s, l) => {
      const cs = paths[l] as readonly number[];
      const m = mix[l];
      let branch: tf.Tensor4D | null = null;
      cs.forEach((c, j) => {
        const cand = s.candidates[c] as CandidateKind;
        // an identity/zero candidate on a layer without a residual cannot occur (the space gives it units)
        let out = ((this.weights[l] as CandidateWeights[])[c] as CandidateWeights).apply(h);
        if (cand.kind === 'none' && !s.residual) out = h;
        if (m) out = tf.mul(out, tf.slice(m, [j], [1])) as tf.Tensor4D;
        branch = branch ? (tf.add(branch, out) as tf.Tensor4D) : out;
      });
      h = s.residual ? (tf.add(h, branch as unknown as tf.Tensor4D) as tf.Tensor4D) : (branch as unknown as tf.Tensor4D);
    });
    const pooled = tf.mean(h, [1, 2]) as tf.Tensor2D;
    return tf.add(tf.matMul(pooled, this.head.w as tf.Tensor2D), this.head.b) as tf.Tensor2D;
  }

  dispose(): void {
    for (const v of new Set([...this.sharedVars, ...this.weights.flat().flatMap((c) => c.vars)])) v.dispose();
  }
}
