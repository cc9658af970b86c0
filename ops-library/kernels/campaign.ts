import seedrandom from 'seedrandom';
import type { KernelSample, SampleActivation } from './sample-graph.ts';

// The kernel-sampling campaign: configurations of every kernel type over the ranges real models
// use (torchvision's classifiers, the NAS spaces at ImageNet and CIFAR resolutions), drawn with a
// fixed seed so every device measures the same list. Like nn-Meter's kernel sampling, values come
// from where models put them: channels by resolution stage, expansions of MBConv blocks, group
// widths of RegNet/ResNeXt, transformer token and width sizes, and the activations and residual
// sums ORT fuses into a conv.
//
// Each family draws from two seeded streams: the original one (its configurations keep their keys
// and order from one version of the list to the next; a smaller quota keeps a prefix of them)
// and a variant stream added for what real models run that the original missed (issue 14's
// leave-one-model-out benchmark): SiLU, channel counts that are not multiples of 8 (ORT leaves
// NCHWc for them: ShuffleNet's 58/116/232, RegNet's SE squeeze widths), SE-style 1×1 convs on
// [C, 1, 1], pools reading a conv's layout, the residual LayerNorm. tests/ops-library/
// kernel-campaign-coverage.test.ts checks that every kernel type of the torchvision models
// appears in the campaign.

/** The families a campaign balances: conv families are told apart by kernel size and groups. */
export const SAMPLE_FAMILIES = Object.freeze([
  'conv', 'pointwise', 'dwconv', 'groupconv', 'pool', 'globalpool', 'gemm', 'matmul',
  'elementwise', 'activation', 'concat', 'softmax', 'layernorm', 'batchnorm', 'shuffle',
  'se', 'split', 'gather', 'attention',
] as const);
export type SampleFamily = (typeof SAMPLE_FAMILIES)[number];

/**
 * Configurations per family in the default campaign: at most 4,980 (4,930 before DenseNet's
 * batch norms after a concat joined the batchnorm family), fewer distinct with seed 0 (small families run out of
 * distinct configurations first). Sized with scripts/bench/kernel-campaign.ts so one CPU device
 * finishes it within 30 minutes (21.9 min here under heavy load, see docs/benchmarks.md),
 * weighted toward the convolutions that take most of a CNN's time.
 */
export const DEFAULT_QUOTAS: Readonly<Record<SampleFamily, number>> = Object.freeze({
  conv: 900, pointwise: 900, dwconv: 700, groupconv: 300, pool: 250, globalpool: 150, gemm: 100, matmul: 200,
  elementwise: 250, activation: 250, concat: 150, softmax: 80, layernorm: 100, batchnorm: 150, shuffle: 120,
  se: 150, split: 80, gather: 30, attention: 120,
});

/** The share of a family's quota drawn from its variant stream (the rest: the original stream). */
const VARIANT_SHARE: Readonly<Partial<Record<SampleFamily, number>>> = Object.freeze({
  conv: 0.12, pointwise: 0.2, dwconv: 0.2, groupconv: 0.3, pool: 0.4, globalpool: 0.5, activation: 0.25, layernorm: 0.3,
  matmul: 0.3, batchnorm: 1 / 3,
});

/** One configuration of the campaign, with the key it is stored under. */
export interface CampaignSample {
  /** `<family>:<fields>`, unique in the campaign and stable across versions of the list */
  key: string;
  family: SampleFamily;
  sample: KernelSample;
}

export interface CampaignOptions {
  /** seed of the draw (default 0): the same seed gives every device the same list */
  seed?: number;
  /** configurations per family (default DEFAULT_QUOTAS); families left out get their default */
  quotas?: Partial<Record<SampleFamily, number>>;
}

/** Resolution stages: channel counts real models use at each feature-map size. */
const STAGES: ReadonlyArray<{ hw: number; channels: readonly number[] }> = [
  { hw: 112, channels: [16, 24, 32, 48, 64, 96] },
  { hw: 56, channels: [24, 32, 48, 64, 96, 128, 144, 192, 256] },
  { hw: 28, channels: [32, 40, 48, 64, 80, 96, 128, 144, 192, 240, 256, 288, 512] },
  { hw: 14, channels: [64, 80, 96, 112, 128, 160, 192, 256, 384, 480, 512, 576, 672, 768, 1024] },
  { hw: 7, channels: [160, 192, 256, 320, 384, 512, 640, 960, 1024, 1152, 1280, 2048] },
  // CIFAR-sized NAS spaces (NAS-Bench-201, FBNet on 32×32)
  { hw: 32, channels: [16, 32, 64, 96] },
  { hw: 16, channels: [32, 64, 128, 192] },
  { hw: 8, channels: [64, 128, 256, 384] },
];
/** Transformer sizes (ViT, Swin, DeiT): tokens, widths, heads. */
const TOKENS = [49, 50, 64, 196, 197, 256];
const WIDTHS = [192, 256, 384, 512, 768];
const HEADS = [1, 3, 4, 6, 8, 12, 16];
const NEXT: Readonly<Record<number, number>> = { 112: 56, 56: 28, 28: 14, 14: 7, 32: 16, 16: 8 };
/**
 * Channel counts that are not multiples of 8, by feature-map size: ShuffleNetV2's branches
 * (58/116/232 at ×1.0, 122/244/488 at ×2.0), RegNetY's and EfficientNet's SE widths (12, 20, 26,
 * 36, 52), and the like. Those ≡ 2 (mod 4) keep convs out of ORT's NCHWc layout; those ≡ 4
 * (mod 8) keep pools and grouped convs out of it.
 */
const ODD_CHANNELS: Readonly<Record<number, readonly number[]>> = {
  112: [12, 20, 36, 58],
  56: [12, 20, 26, 36, 58, 116, 122],
  28: [26, 36, 52, 58, 116, 122, 164, 244],
  14: [52, 116, 122, 164, 232, 244, 348, 488],
  7: [232, 244, 348, 488, 696, 976],
  32: [12, 20, 36, 58],
  16: [20, 36, 52, 100],
  8: [36, 52, 100, 196],
};

/** Upper bounds that keep one configuration to milliseconds on a CPU and its weights small. */
const MAX_MACS = 1.2e9;
const MAX_WEIGHTS = 4e6;
const MAX_ELEMENTS = 4e6;

type Rng = () => number;
const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
function weighted<T>(r: Rng, options: ReadonlyArray<readonly [T, number]>): T {
  const total = options.reduce((a, [, w]) => a + w, 0);
  let x = r() * total;
  for (const [v, w] of options) if ((x -= w) < 0) return v;
  return (options[options.length - 1] as readonly [T, number])[0];
}
const round8 = (x: number) => Math.max(8, Math.round(x / 8) * 8);
const cnnAct = (r: Rng): SampleActivation => weighted(r, [['relu', 5], ['none', 2], ['relu6', 1.5], ['hswish', 1.5]]);
// the variant stream's activations: SiLU as EfficientNet and RegNet's SE write it
const cnnActV = (r: Rng): SampleActivation => weighted(r, [['relu', 3], ['none', 2], ['relu6', 1], ['hswish', 1], ['silu', 3]]);
/** a channel count of a stage for the variant stream: half of them not multiples of 8 */
const channelV = (r: Rng, st: { hw: number; channels: readonly number[] }): number => (r() < 0.5 ? pick(r, ODD_CHANNELS[st.hw] ?? st.channels) : pick(r, st.channels));
const stage = (r: Rng) => pick(r, STAGES);
const outHw = (hw: number, k: number, s: number) => Math.floor((hw + 2 * Math.floor((k - 1) / 2) - k) / s) + 1;

function convSample(r: Rng, f: 'conv' | 'pointwise' | 'dwconv' | 'groupconv'): KernelSample | null {
  const st = stage(r);
  const stride = NEXT[st.hw] !== undefined && r() < (f === 'pointwise' ? 0.05 : 0.25) ? 2 : 1;
  const next = STAGES.find((s) => s.hw === NEXT[st.hw]);
  const cin = pick(r, st.channels);
  switch (f) {
    case 'conv': {
      // one in ten is a stem: 3 input channels at 224 or 32
      if (r() < 0.1) {
        const hw = r() < 0.7 ? 224 : 32;
        const k = hw === 224 ? pick(r, [3, 7]) : 3;
        return { kind: 'conv', cin: 3, cout: pick(r, [16, 24, 32, 64]), hw, kernel: k, stride: hw === 224 ? 2 : 1, groups: 1, act: cnnAct(r), residual: false };
      }
      const cout = stride === 2 && next ? pick(r, next.channels) : pick(r, st.channels);
      const kernel = weighted(r, [[3, 8], [5, 1], [7, 1]]);
      return { kind: 'conv', cin, cout, hw: st.hw, kernel, stride, groups: 1, act: cnnAct(r), residual: stride === 1 && r() < 0.25 };
    }
    case 'pointwise': {
      const mode = weighted(r, [['expand', 4], ['project', 4], ['plain', 2]] as const);
      const cout = mode === 'expand' ? round8(cin * pick(r, [2, 3, 4, 6])) : mode === 'project' ? round8(cin / pick(r, [2, 3, 4, 6])) : pick(r, (stride === 2 && next ? next : st).channels);
      const act = mode === 'project' ? 'none' : cnnAct(r);
      return { kind: 'conv', cin, cout, hw: st.hw, kernel: 1, stride, groups: 1, act, residual: mode === 'project' && stride === 1 && r() < 0.4 };
    }
    case 'dwconv': {
      const c = Math.min(1920, round8(cin * pick(r, [1, 1, 3, 4, 6])));
      return { kind: 'conv', cin: c, cout: c, hw: st.hw, kernel: weighted(r, [[3, 6], [5, 3], [7, 1]]), stride, groups: c, act: cnnAct(r), residual: false };
    }
    case 'groupconv': {
      const width = pick(r, [8, 16, 24, 32, 48, 64]);
      const groups = r() < 0.5 && cin % width === 0 && cin / width >= 2 ? cin / width : pick(r, [2, 3, 4, 8, 32]);
      if (cin % groups !== 0 || groups === cin) return null;
      return { kind: 'conv', cin, cout: cin, hw: st.hw, kernel: r() < 0.8 ? 3 : 1, stride, groups, act: cnnAct(r), residual: false };
    }
  }
}

function draw(r: Rng, f: SampleFamily): KernelSample | null {
  switch (f) {
    case 'conv':
    case 'pointwise':
    case 'dwconv':
    case 'groupconv':
      return convSample(r, f);
    case 'pool': {
      const st = r() < 0.15 ? { hw: 112, channels: [64, 32, 24] } : stage(r);
      const op = r() < 0.7 ? 'max' : 'avg';
      const kernel = pick(r, [2, 3, 3]);
      return { kind: 'pool', op, c: pick(r, st.channels), hw: st.hw, kernel, stride: kernel === 2 ? 2 : pick(r, [1, 2]) };
    }
    case 'globalpool': {
      const st = r() < 0.5 ? STAGES.find((s) => s.hw === 7)! : stage(r);
      return { kind: 'globalpool', c: pick(r, st.channels), hw: st.hw };
    }
    case 'gemm':
      return { kind: 'gemm', in: pick(r, [256, 512, 576, 768, 1024, 1280, 1536, 2048, 4096]), out: pick(r, [10, 100, 1000, 1024, 1280, 4096]), act: r() < 0.7 ? 'none' : 'relu' };
    case 'matmul': {
      const tokens = pick(r, TOKENS);
      if (r() < 0.6) {
        const d = pick(r, WIDTHS);
        return { kind: 'matmul', a: [tokens, d], b: [d, r() < 0.2 ? pick(r, [10, 100, 1000]) : d * pick(r, [1, 3, 4])], weights: true };
      }
      const heads = pick(r, HEADS);
      const dh = pick(r, [32, 64, 64]);
      return r() < 0.5
        ? { kind: 'matmul', a: [heads, tokens, dh], b: [heads, dh, tokens], weights: false }
        : { kind: 'matmul', a: [heads, tokens, tokens], b: [heads, tokens, dh], weights: false };
    }
    case 'elementwise': {
      if (r() < 0.2) return { kind: 'elementwise', op: 'Add', shape: [pick(r, TOKENS), pick(r, WIDTHS)], broadcast: false };
      const st = stage(r);
      const c = pick(r, st.channels);
      const se = r() < 0.4;
      return { kind: 'elementwise', op: se ? 'Mul' : 'Add', shape: [se ? round8(c * pick(r, [1, 4, 6])) : c, st.hw, st.hw], broadcast: se };
    }
    case 'activation': {
      const act = weighted(r, [['relu', 2], ['relu6', 1], ['hswish', 1], ['sigmoid', 1], ['gelu', 1.5]] as const);
      if (act === 'gelu') return { kind: 'activation', act, shape: [pick(r, TOKENS), 4 * pick(r, WIDTHS)] };
      const st = stage(r);
      return { kind: 'activation', act, shape: [pick(r, st.channels), st.hw, st.hw] };
    }
    case 'concat': {
      const st = stage(r);
      const n = weighted(r, [[2, 6], [3, 1], [4, 2]]);
      return { kind: 'concat', channels: Array.from({ length: n }, () => (r() < 0.3 ? 32 : pick(r, st.channels) / (n > 2 ? 2 : 1))), hw: st.hw };
    }
    case 'softmax': {
      if (r() < 0.15) return { kind: 'softmax', shape: [pick(r, [10, 100, 1000, 11221])] };
      const t = pick(r, TOKENS);
      return { kind: 'softmax', shape: [pick(r, HEADS), t, t] };
    }
    case 'layernorm':
      return { kind: 'layernorm', tokens: pick(r, [...TOKENS, 784, 3136]), d: pick(r, [64, 96, 128, ...WIDTHS, 1024]) };
    case 'batchnorm': {
      const st = stage(r);
      return { kind: 'batchnorm', c: pick(r, st.channels), hw: st.hw, act: r() < 0.7 ? 'relu' : 'none' };
    }
    case 'shuffle': {
      const st = stage(r);
      const groups = pick(r, [2, 2, 3, 4, 8]);
      const c = round8(pick(r, st.channels) / groups) * groups;
      return { kind: 'shuffle', c, hw: st.hw, groups };
    }
    case 'se': {
      const st = stage(r);
      const c = channelV(r, st);
      // EfficientNet: SiLU and a sigmoid gate, squeeze = block input / 4; MobileNetV3: hard gate, squeeze rounded to 8; RegNetY: ReLU, sigmoid
      const model = weighted(r, [['efficientnet', 2], ['mobilenetv3', 1.5], ['regnet', 1.5]] as const);
      if (model === 'mobilenetv3') return { kind: 'se', c, hw: st.hw, squeeze: round8(c / 4), act: r() < 0.5 ? 'hswish' : 'relu', gate: 'hardsigmoid' };
      const squeeze = Math.max(4, Math.round(c / pick(r, model === 'efficientnet' ? [4, 24] : [4, 8])));
      return { kind: 'se', c, hw: st.hw, squeeze, act: model === 'efficientnet' ? 'silu' : 'relu', gate: 'sigmoid' };
    }
    case 'split': {
      if (r() < 0.3) return { kind: 'split', shape: [pick(r, TOKENS), 3 * pick(r, WIDTHS)], axis: 1, parts: 3 };
      const st = stage(r);
      return { kind: 'split', shape: [2 * channelV(r, st), st.hw, st.hw], axis: 0, parts: 2 };
    }
    case 'gather':
      return { kind: 'gather', tokens: pick(r, TOKENS), d: pick(r, [...WIDTHS, 1024]) };
    case 'attention':
      return { kind: 'attention', product: r() < 0.5 ? 'scores' : 'context', heads: pick(r, HEADS), tokens: pick(r, TOKENS), dh: pick(r, [32, 64, 64]) };
  }
}

/**
 * A configuration of a family's variant stream: what real models run that the original draw
 * missed (SiLU, channel counts off the multiples of 8, SE convs on [C, 1, 1], batch norms in the blocked layout, pools after a
 * conv and heads, SkipLayerNormalization, linear layers with their bias); null for a family without variants.
 */
function drawVariant(r: Rng, f: SampleFamily): KernelSample | null {
  switch (f) {
    case 'conv': {
      const st = stage(r);
      const stride = NEXT[st.hw] !== undefined && r() < 0.25 ? 2 : 1;
      const kernel = weighted(r, [[3, 8], [5, 1], [7, 1]]);
      return { kind: 'conv', cin: channelV(r, st), cout: channelV(r, st), hw: st.hw, kernel, stride, groups: 1, act: cnnActV(r), residual: stride === 1 && r() < 0.25 };
    }
    case 'pointwise': {
      const st = stage(r);
      if (r() < 0.4) {
        // an SE block's convs on [C, 1, 1]: reduce (with its activation) or expand (with its gate)
        const c = channelV(r, st);
        const squeeze = Math.max(4, Math.round(c / pick(r, [4, 8, 24])));
        return r() < 0.5
          ? { kind: 'conv', cin: c, cout: squeeze, hw: 1, kernel: 1, stride: 1, groups: 1, act: weighted(r, [['relu', 2], ['silu', 2], ['none', 1]] as const), residual: false }
          : { kind: 'conv', cin: squeeze, cout: c, hw: 1, kernel: 1, stride: 1, groups: 1, act: r() < 0.6 ? 'sigmoid' : 'hardsigmoid', residual: false };
      }
      const stride = NEXT[st.hw] !== undefined && r() < 0.05 ? 2 : 1;
      const cin = channelV(r, st);
      const cout = channelV(r, st);
      return { kind: 'conv', cin, cout, hw: st.hw, kernel: 1, stride, groups: 1, act: cnnActV(r), residual: stride === 1 && cin !== cout && r() < 0.2 };
    }
    case 'dwconv': {
      const st = stage(r);
      const c = channelV(r, st);
      return { kind: 'conv', cin: c, cout: c, hw: st.hw, kernel: weighted(r, [[3, 6], [5, 3], [7, 1]]), stride: NEXT[st.hw] !== undefined && r() < 0.25 ? 2 : 1, groups: c, act: cnnActV(r), residual: false };
    }
    case 'groupconv': {
      // RegNet/ResNeXt: a group width times a group count (ResNeXt-50 32×4d's 4, RegNetY's 8 to 48), widths below NCHWc's block included
      const st = stage(r);
      const width = pick(r, [4, 8, 8, 12, 16, 24, 48]);
      const groups = Math.max(2, Math.round(channelV(r, st) / width));
      const c = width * groups;
      return { kind: 'conv', cin: c, cout: c, hw: st.hw, kernel: r() < 0.85 ? 3 : 1, stride: NEXT[st.hw] !== undefined && r() < 0.3 ? 2 : 1, groups, act: r() < 0.8 ? 'relu' : 'none', residual: false };
    }
    case 'pool': {
      const st = r() < 0.3 ? { hw: 112, channels: [24, 32, 64] } : stage(r);
      const kernel = pick(r, [2, 3, 3]);
      return { kind: 'pool', op: r() < 0.7 ? 'max' : 'avg', c: channelV(r, st), hw: st.hw, kernel, stride: kernel === 2 ? 2 : pick(r, [1, 2, 2]) };
    }
    case 'globalpool': {
      const st = r() < 0.5 ? STAGES.find((s) => s.hw === 7)! : stage(r);
      const c = r() < 0.4 ? pick(r, ODD_CHANNELS[st.hw] ?? st.channels) : pick(r, [...st.channels, ...(st.hw === 7 ? [576, 1024, 1280, 1536, 2048] : [])]);
      const kind = weighted(r, [['after-conv', 4], ['mean', 2], ['head', 2]] as const);
      if (kind === 'mean') return { kind: 'globalpool', c, hw: st.hw, op: 'mean' };
      if (kind === 'head') return { kind: 'globalpool', c, hw: st.hw, from: 'dwconv', flatten: true };
      return { kind: 'globalpool', c, hw: st.hw, from: 'dwconv' };
    }
    case 'activation': {
      const st = stage(r);
      return { kind: 'activation', act: 'silu', shape: [channelV(r, st), st.hw, st.hw] };
    }
    case 'layernorm':
      return { kind: 'layernorm', tokens: pick(r, [...TOKENS, 784, 3136]), d: pick(r, [64, 96, 128, ...WIDTHS, 1024]), skip: true };
    case 'batchnorm': {
      // DenseNet's pre-activation after each concat: channels grow by 32 per layer through a block
      const [hw, lo, hi] = pick(r, [[56, 2, 8], [28, 4, 16], [14, 8, 32], [7, 16, 32]] as const);
      return { kind: 'batchnorm', c: 32 * (lo + Math.floor(r() * (hi - lo + 1))), hw, act: r() < 0.85 ? 'relu' : 'none', from: 'pool' };
    }
    case 'matmul': {
      // a transformer's linear layers with their bias (ViT's qkv, projection and MLP; ConvNeXt's
      // channels-last MLP on 56²…7² tokens): ORT runs MatMul + Add as a Gemm of that many rows
      const tokens = pick(r, [...TOKENS, 784, 3136]);
      const d = pick(r, [96, 192, 384, ...WIDTHS]);
      return r() < 0.5
        ? { kind: 'matmul', a: [tokens, d], b: [d, d * pick(r, [1, 3, 4])], weights: true, bias: true }
        : { kind: 'matmul', a: [tokens, 4 * d], b: [4 * d, d], weights: true, bias: true };
    }
    default:
      return null;
  }
}

/** Up to `n` distinct configurations of family `f` from one stream (keys in `seen` are skipped and added to it). */
function drawList(r: Rng, f: SampleFamily, n: number, seen: Set<string>, from: (r: Rng, f: SampleFamily) => KernelSample | null): CampaignSample[] {
  const list: CampaignSample[] = [];
  // a family with few distinct configurations ends when draws stop finding new ones
  for (let tries = 0; list.length < n && tries < n * 50; tries++) {
    const s = from(r, f);
    if (!s || familyOf(s) !== f || !withinBounds(s)) continue;
    const key = sampleKey(s);
    if (seen.has(key)) continue;
    seen.add(key);
    list.push({ key, family: f, sample: s });
  }
  return list;
}

/** Work and size of a sample, to keep each configuration to milliseconds. */
function withinBounds(s: KernelSample): boolean {
  const prod = (xs: readonly number[]) => xs.reduce((a, b) => a * b, 1);
  switch (s.kind) {
    case 'conv': {
      const o = outHw(s.hw, s.kernel, s.stride);
      const weights = (s.cout * s.cin * s.kernel * s.kernel) / s.groups;
      return o >= 1 && weights * o * o <= MAX_MACS && weights <= MAX_WEIGHTS && s.cin * s.hw * s.hw <= MAX_ELEMENTS && s.cout * o * o <= MAX_ELEMENTS;
    }
    case 'gemm':
      return s.in * s.out <= MAX_WEIGHTS;
    case 'matmul':
      return prod(s.a) * (s.b[s.b.length - 1] as number) <= MAX_MACS && prod(s.b) <= MAX_WEIGHTS;
    case 'concat':
      return s.channels.reduce((a, b) => a + b, 0) * s.hw * s.hw <= MAX_ELEMENTS;
    case 'softmax':
    case 'elementwise':
    case 'activation':
      return prod(s.shape) <= MAX_ELEMENTS;
    case 'layernorm':
    case 'gather':
      return s.tokens * s.d <= MAX_ELEMENTS;
    case 'split':
      return prod(s.shape) <= MAX_ELEMENTS;
    case 'attention':
      return s.heads * s.tokens * s.tokens * s.dh <= MAX_MACS && s.heads * s.tokens * Math.max(s.tokens, s.dh) <= MAX_ELEMENTS;
    default:
      return s.c * s.hw * s.hw <= MAX_ELEMENTS;
  }
}

/** The campaign key of a sample: its family and every field, e.g. `dwconv:c144-hw56-k5-s2-g144-relu6`. */
export function sampleKey(s: KernelSample): string {
  const fam = familyOf(s);
  switch (s.kind) {
    case 'conv':
      return `${fam}:ci${s.cin}-co${s.cout}-hw${s.hw}-k${s.kernel}-s${s.stride}-g${s.groups}-${s.act}${s.residual ? '-add' : ''}`;
    case 'pool':
      return `${fam}:${s.op}-c${s.c}-hw${s.hw}-k${s.kernel}-s${s.stride}`;
    case 'globalpool':
      return `${fam}:c${s.c}-hw${s.hw}${s.op === 'mean' ? '-mean' : ''}${s.from === 'dwconv' ? '-dw' : ''}${s.flatten ? '-flat' : ''}`;
    case 'gemm':
      return `${fam}:in${s.in}-out${s.out}-${s.act}`;
    case 'matmul':
      return `${fam}:a${s.a.join('x')}-b${s.b.join('x')}${s.weights ? '-w' : ''}${s.bias ? '-bias' : ''}`;
    case 'elementwise':
      return `${fam}:${s.op}-${s.shape.join('x')}${s.broadcast ? '-bcast' : ''}`;
    case 'activation':
      return `${fam}:${s.act}-${s.shape.join('x')}`;
    case 'concat':
      return `${fam}:${s.channels.join('+')}-hw${s.hw}`;
    case 'softmax':
      return `${fam}:${s.shape.join('x')}`;
    case 'layernorm':
      return `${fam}:t${s.tokens}-d${s.d}${s.skip ? '-skip' : ''}`;
    case 'batchnorm':
      return `${fam}:c${s.c}-hw${s.hw}-${s.act}${s.from === 'pool' ? '-pool' : ''}`;
    case 'shuffle':
      return `${fam}:c${s.c}-hw${s.hw}-g${s.groups}`;
    case 'se':
      return `${fam}:c${s.c}-hw${s.hw}-sq${s.squeeze}-${s.act}-${s.gate}`;
    case 'split':
      return `${fam}:${s.shape.join('x')}-a${s.axis}-p${s.parts}`;
    case 'gather':
      return `${fam}:t${s.tokens}-d${s.d}`;
    case 'attention':
      return `${fam}:${s.product}-h${s.heads}-t${s.tokens}-d${s.dh}`;
  }
}

/** The family a sample is counted in. */
export function familyOf(s: KernelSample): SampleFamily {
  if (s.kind !== 'conv') return s.kind;
  if (s.groups === 1) return s.kernel === 1 ? 'pointwise' : 'conv';
  return s.groups === s.cin && s.cin === s.cout ? 'dwconv' : 'groupconv';
}

/**
 * The campaign's configurations, families interleaved (conv, pointwise, dwconv, …, conv, …) so
 * that a run cut short by a time limit still covers every family. Deterministic for a seed.
 *
 * @example
 * const samples = kernelCampaign();          // 4,870 configurations
 * const quick = kernelCampaign({ quotas: { conv: 5, dwconv: 5 } }).slice(0, 20);
 */
export function kernelCampaign(options: CampaignOptions = {}): CampaignSample[] {
  const quotas = { ...DEFAULT_QUOTAS, ...(options.quotas ?? {}) };
  for (const [f, n] of Object.entries(quotas)) {
    if (!(SAMPLE_FAMILIES as readonly string[]).includes(f)) throw new RangeError(`unknown sample family '${f}'; known: ${SAMPLE_FAMILIES.join(', ')}`);
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`quota of '${f}' must be an integer >= 0, got ${n}`);
  }
  const perFamily = SAMPLE_FAMILIES.map((f) => {
    const seen = new Set<string>();
    const variants = Math.round(quotas[f] * (VARIANT_SHARE[f] ?? 0));
    // the original stream first, so its configurations keep their keys whatever the variants draw
    const main = drawList(seedrandom.alea(`hwlat-kernel-campaign-${options.seed ?? 0}-${f}`), f, quotas[f] - variants, seen, draw);
    const extra = drawList(seedrandom.alea(`hwlat-kernel-campaign-${options.seed ?? 0}-${f}-variants`), f, variants, seen, drawVariant);
    // spread the variants through the family, so a run cut short has some of each
    const list: CampaignSample[] = [];
    const total = main.length + extra.length;
    for (let i = 0, m = 0, v = 0; i < total; i++) {
      const wantV = Math.floor(((i + 1) * extra.length) / total);
      list.push((v < wantV || m >= main.length ? extra[v++] : main[m++]) as CampaignSample);
    }
    return list;
  });
  const out: CampaignSample[] = [];
  for (let i = 0; out.length < perFamily.reduce((a, l) => a + l.length, 0); i++) for (const l of perFamily) if (l[i]) out.push(l[i] as CampaignSample);
  return out;
}
