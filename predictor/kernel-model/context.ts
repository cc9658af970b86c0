import { median } from 'simple-statistics';
import { baseOp, kernelType } from '../../ops-library/kernels/features.ts';
import type { TimedKernel } from '../../ops-library/kernels/types.ts';
import { kernelKey } from './model.ts';
import { isNetworkProfile as isNetwork, KERNEL_CONTEXT_MODES, type KernelContextMode, type KernelTrainingProfile } from './types.ts';

/** kernels timed both ways a type needs before its own factor is used; with fewer, its op family's, then all kernels' */
const MIN_PAIRS = 3;
/** the modes 'auto' chooses between, simplest first (a later one must do strictly better) */
const MODES = ['none', 'any'] as const satisfies readonly KernelContextMode[];

/** How the device's campaign samples were carried into networks, as stored with its kernel model. */
export interface KernelContext {
  mode: Exclude<KernelContextMode, 'auto'>;
  /** factor by kernel type ('com.microsoft.nchwc:Conv/depthwise'), op family ('Conv') or 'any'; empty for 'none' */
  factors: Record<string, number>;
  /**
   * what 'auto' chose by: per mode, the median |error| of the networks' paired kernels (those also
   * timed in a sample) priced from the samples with factors fitted on the other networks
   */
  validation?: Partial<Record<Exclude<KernelContextMode, 'auto'>, number>>;
}

/** kernel key → its kernel and the times it was timed, over the given profiles */
function timesByKey(profiles: readonly KernelTrainingProfile[]): Map<string, { k: TimedKernel; ms: number[] }> {
  const m = new Map<string, { k: TimedKernel; ms: number[] }>();
  for (const p of profiles) {
    for (const k of p.kernels) {
      if (!(k.ms > 0)) continue;
      const key = kernelKey(k);
      const e = m.get(key) ?? { k, ms: [] };
      e.ms.push(k.ms);
      m.set(key, e);
    }
  }
  return m;
}

/**
 * Factors in-network ÷ sample over the kernels timed both ways (same type and features): the ratio
 * of their sums per kernel type, op family and 'any' ('any' alone for mode 'any').
 */
function fitFactors(networks: readonly KernelTrainingProfile[], samples: ReadonlyMap<string, number>, mode: KernelContext['mode']): Record<string, number> {
  if (mode === 'none') return {};
  const sums = new Map<string, { n: number; net: number; sample: number }>();
  for (const [key, n] of timesByKey(networks)) {
    const s = samples.get(key);
    if (s === undefined) continue;
    for (const name of mode === 'any' ? ['any'] : new Set([kernelType(n.k), baseOp(n.k.op), 'any'])) {
      const t = sums.get(name) ?? { n: 0, net: 0, sample: 0 };
      t.n++;
      t.net += median(n.ms);
      t.sample += s;
      sums.set(name, t);
    }
  }
  return Object.fromEntries([...sums].filter(([, t]) => t.n >= MIN_PAIRS && t.sample > 0).map(([name, t]) => [name, t.net / t.sample]));
}

/** The factor that carries a sample of this kernel into a network: its type's, its family's, all kernels', else 1. */
export function contextFactor(factors: Readonly<Record<string, number>>, k: TimedKernel): number {
  return factors[kernelType(k)] ?? factors[baseOp(k.op)] ?? factors.any ?? 1;
}

/**
 * A campaign sample times a kernel in a small graph of its own, and on some runtimes that runs at
 * another speed than the same kernel inside a network: on ort-web wasm here the isolated kernels
 * ran slower (depthwise convs priced +41%, Gemms +30%, even with the Neg scaffold), on ort-node cpu
 * they agree. So a device's samples are carried into networks by factors, in-network ÷ sample over
 * the kernels timed both ways, in one of three modes: 'none', 'any' (one factor), 'type' (per kernel
 * type, else its op family, else 'any').
 *
 * 'auto' chooses between 'none' and 'any' by leave-one-network-out on the device's own networks:
 * each network's paired kernels (those also timed in a sample) are priced from the samples with the
 * factor fitted on the other networks; 'any' wins only with a strictly lower median |error|. With
 * fewer than 3 such networks it is 'none'. 'type' is never chosen by itself: a type's factor mixes
 * shapes that carry differently (on ort-node cpu, classifier Gemms with M = 1 ran 4× slower inside a
 * network while big Gemms ran at 0.93×), and it priced vit_b_16 +12% where 'none' gave +1%.
 *
 * @example
 * const ctx = fitKernelContext(profiles, 'auto'); // { mode: 'any', factors: { any: 0.86 }, validation: { none: 0.11, any: 0.07 } }
 */
export function fitKernelContext(profiles: readonly KernelTrainingProfile[], mode: KernelContextMode = 'auto'): KernelContext {
  if (!KERNEL_CONTEXT_MODES.includes(mode)) throw new RangeError(`'context' must be one of ${KERNEL_CONTEXT_MODES.join(', ')}; got '${String(mode)}'`);
  const networks = profiles.filter(isNetwork);
  const samples = new Map([...timesByKey(profiles.filter((p) => !isNetwork(p)))].map(([key, e]) => [key, median(e.ms)]));
  if (mode !== 'auto') return { mode, factors: fitFactors(networks, samples, mode) };
  const paired = networks.filter((p) => p.kernels.some((k) => k.ms > 0 && samples.has(kernelKey(k))));
  if (paired.length < 3) return { mode: 'none', factors: {}, validation: {} };
  const validation: KernelContext['validation'] = {};
  for (const m of MODES) {
    const errors = paired.map((held) => {
      const factors = fitFactors(
        networks.filter((p) => p !== held),
        samples,
        m,
      );
      let net = 0;
      let priced = 0;
      for (const k of held.kernels) {
        const s = samples.get(kernelKey(k));
        if (s === undefined || !(k.ms > 0)) continue;
        net += k.ms;
        priced += s * contextFactor(factors, k);
      }
      return Math.abs(priced / net - 1);
    });
    validation[m] = median(errors);
  }
  const best = MODES.reduce((a, m) => ((validation[m] as number) < (validation[a] as number) ? m : a));
  return { mode: best, factors: fitFactors(networks, samples, best), validation };
}

/** The samples' kernels carried into networks by the context's factors; network profiles unchanged. */
export function samplesInContext(profiles: readonly KernelTrainingProfile[], context: KernelContext): KernelTrainingProfile[] {
  if (context.mode === 'none') return [...profiles];
  return profiles.map((p) => (isNetwork(p) ? p : { ...p, kernels: p.kernels.map((k) => ({ ...k, ms: k.ms * contextFactor(context.factors, k) })) }));
}
