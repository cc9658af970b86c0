import seedrandom from 'seedrandom';
import type { KernelSample, SampleActivation } from './sample-graph.ts';

// The kernel-sampling campaign: configurations of every kernel type over the ranges real models
// use (torchvision's classifiers, the NAS spaces at ImageNet and CIFAR resolutions), drawn with a
// fixed seed so every device measures the same list. Like nn-Meter's kernel sampling, values come
// from where models put them: channels by resolution stage, expansions of MBConv blocks, group
// widths of RegNet/ResNeXt, transformer token and width sizes, and the activations and residual
// sums ORT fuses into a conv.

/** The families a campaign balances: conv families are told apart by kernel size and groups. */
export const SAMPLE_FAMILIES = Object.freeze([
  'conv', 'pointwise', 'dwconv', 'groupconv', 'pool', 'globalpool', 'gemm', 'matmul',
  'elementwise', 'activation', 'concat', 'softmax', 'layernorm', 'batchnorm', 'shuffle',
] as const);
export type SampleFamily = (typeof SAMPLE_FAMILIES)[number];

/**
 * Configurations per family in the default campaign: at most 5,000; 4,751 distinct with seed 0
 * (small families run out of distinct configurations first). Sized with
 * scripts/bench/kernel-campaign.ts so one CPU device finishes it within 30 minutes (21.9 min here
 * under heavy load, see docs/benchmarks.md), weighted toward the convolutions that take most of
 * a CNN's time.
 */
export const DEFAULT_QUOTAS: Readonly<Record<SampleFamily, number>> = Object.freeze({
  conv: 1000, pointwise: 1000, dwconv: 800, groupconv: 300, pool: 200, globalpool: 100, gemm: 100, matmul: 200,
  elementwise: 300, activation: 250, concat: 200, softmax: 80, layernorm: 100, batchnorm: 150, shuffle: 150,
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
  }
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
      return s.tokens * s.d <= MAX_ELEMENTS;
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
      return `${fam}:c${s.c}-hw${s.hw}`;
    case 'gemm':
      return `${fam}:in${s.in}-out${s.out}-${s.act}`;
    case 'matmul':
      return `${fam}:a${s.a.join('x')}-b${s.b.join('x')}${s.weights ? '-w' : ''}`;
    case 'elementwise':
      return `${fam}:${s.op}-${s.shape.join('x')}${s.broadcast ? '-bcast' : ''}`;
    case 'activation':
      return `${fam}:${s.act}-${s.shape.join('x')}`;
    case 'concat':
      return `${fam}:${s.channels.join('+')}-hw${s.hw}`;
    case 'softmax':
      return `${fam}:${s.shape.join('x')}`;
    case 'layernorm':
      return `${fam}:t${s.tokens}-d${s.d}`;
    case 'batchnorm':
      return `${fam}:c${s.c}-hw${s.hw}-${s.act}`;
    case 'shuffle':
      return `${fam}:c${s.c}-hw${s.hw}-g${s.groups}`;
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
 * const samples = kernelCampaign();          // 4,751 configurations
 * const quick = kernelCampaign({ quotas: { conv: 5, dwconv: 5 } }).slice(0, 20);
 */
export function kernelCampaign(options: CampaignOptions = {}): CampaignSample[] {
  const quotas = { ...DEFAULT_QUOTAS, ...(options.quotas ?? {}) };
  for (const [f, n] of Object.entries(quotas)) {
    if (!(SAMPLE_FAMILIES as readonly string[]).includes(f)) throw new RangeError(`unknown sample family '${f}'; known: ${SAMPLE_FAMILIES.join(', ')}`);
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`quota of '${f}' must be an integer >= 0, got ${n}`);
  }
  const perFamily = SAMPLE_FAMILIES.map((f) => {
    const r = seedrandom.alea(`hwlat-kernel-campaign-${options.seed ?? 0}-${f}`);
    const seen = new Set<string>();
    const list: CampaignSample[] = [];
    // a family with few distinct configurations ends when draws stop finding new ones
    for (let tries = 0; list.length < quotas[f] && tries < quotas[f] * 50; tries++) {
      const s = draw(r, f);
      if (!s || familyOf(s) !== f || !withinBounds(s)) continue;
      const key = sampleKey(s);
      if (seen.has(key)) continue;
      seen.add(key);
      list.push({ key, family: f, sample: s });
    }
    return list;
  });
  const out: CampaignSample[] = [];
  for (let i = 0; out.length < perFamily.reduce((a, l) => a + l.length, 0); i++) for (const l of perFamily) if (l[i]) out.push(l[i] as CampaignSample);
  return out;
}
