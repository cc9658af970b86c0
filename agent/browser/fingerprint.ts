import { DeviceProfileSchema, invalidArgumentError, RuntimeInfoSchema, type DeviceProfile, type RuntimeInfo } from '../../protocol/index.ts';
import { sha256Hex } from './sha256.ts';

const GIB = 1024 ** 3;

/** The GPU adapter as WebGPU describes it (GPUAdapterInfo); browsers blank fields they keep private. */
export interface GpuAdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** a software or otherwise fallback adapter (e.g. SwiftShader) */
  isFallbackAdapter?: boolean;
}

/** What a page can learn about its device: the browser's navigator and, where there is one, the GPU adapter. */
export interface BrowserEnv {
  userAgent: string;
  /** navigator.platform, e.g. 'Linux x86_64', 'iPhone', 'MacIntel' */
  platform: string;
  /** logical cores (navigator.hardwareConcurrency; Safari reports at most 8) */
  hardwareConcurrency: number;
  /** GiB, rounded and capped at 8 by the spec (navigator.deviceMemory; Chromium only) */
  deviceMemory?: number;
  /** from userAgentData high-entropy values (Chromium): 'x86', 'arm', and a phone's model name */
  architecture?: string;
  model?: string;
  gpu: GpuAdapterInfo | null;
}

/** Checked in order: Edge and Chrome-on-iOS say 'Chrome' too, every Chromium says 'Safari'. */
const BROWSERS: ReadonlyArray<readonly [string, RegExp]> = [
  ['Edge', /Edg\/(\d+)/],
  ['Firefox', /(?:Firefox|FxiOS)\/(\d+)/],
  ['Chrome', /(?:Chrome|Chromium|CriOS)\/(\d+)/],
  ['Safari', /Version\/(\d+).*Safari/],
];

/** 'Chrome 131', 'Firefox 133', 'Safari 18', 'Edge 131', from a user agent string. */
export function browserName(ua: string): string {
  for (const [name, re] of BROWSERS) {
    const m = re.exec(ua);
    if (m) return `${name} ${m[1]}`;
  }
  return 'browser';
}

/** 'Android 14', 'iOS 17', 'Windows', 'macOS', 'Linux', from a user agent string. */
export function osName(ua: string, platform: string): string {
  const android = /Android (\d+)/.exec(ua);
  if (android) return `Android ${android[1]}`;
  const ios = /(?:iPhone|CPU) OS (\d+)/.exec(ua);
  if (ios) return `iOS ${ios[1]}`;
  if (/Windows/.test(ua)) return 'Windows';
  if (/Mac OS X/.test(ua)) return 'macOS';
  if (/CrOS/.test(ua)) return 'ChromeOS';
  if (/Linux/.test(ua) || /Linux/.test(platform)) return 'Linux';
  return platform || 'unknown';
}

/** JSON with sorted keys, so the id does not depend on property order. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function gpuModel(g: GpuAdapterInfo): string {
  return [g.architecture, g.device, g.description].filter((s) => s && s.trim()).join(' ').trim() || 'unknown';
}

/**
 * A browser device's profile from what the page sees plus the runtime it measures with. Pure (the
 * caller probes: see probeBrowser), so it is the same in a test as in the page. The id hashes the
 * latency-relevant fields (browser and its major version, OS, cores, memory, architecture, model,
 * GPU adapter, and the runtime: backend, provider, version, threads), so one phone gets one device
 * per backend: `?backend=wasm` and WebGPU are two devices, as their latencies differ.
 *
 * @example
 * const profile = browserProfile(await probeBrowser(), backend.info);
 * console.log(profile.id, profile.name); // dev-5d1c… Chrome 131 Android 14 Pixel 7 ort-web:webgpu t1
 */
export function browserProfile(env: BrowserEnv, runtime: RuntimeInfo): DeviceProfile {
  const rt = RuntimeInfoSchema.safeParse(runtime);
  if (!rt.success) {
    throw invalidArgumentError(rt.error, 'runtime');
  }
  if (env === null || typeof env !== 'object' || typeof env.userAgent !== 'string') throw new TypeError(`'env' must be a BrowserEnv with a userAgent string`);
  const browser = browserName(env.userAgent);
  const os = osName(env.userAgent, env.platform);
  const arch = env.architecture || (/x86_64|Win64|x64|amd64/i.test(env.userAgent + env.platform) ? 'x86' : /arm|aarch64/i.test(env.userAgent + env.platform) ? 'arm' : 'unknown');
  const cores = Number.isInteger(env.hardwareConcurrency) && env.hardwareConcurrency > 0 ? env.hardwareConcurrency : 0;
  const gpus = env.gpu ? [{ vendor: env.gpu.vendor || 'unknown', model: gpuModel(env.gpu) }] : [];
  const key = {
    browser,
    os,
    arch,
    cores,
    memoryGiB: env.deviceMemory,
    model: env.model || undefined,
    gpus: gpus.map((g) => `${g.vendor} ${g.model}`),
    backend: rt.data.backend,
    provider: rt.data.provider,
    version: rt.data.version,
    threads: rt.data.threads,
  };
  const id = `dev-${sha256Hex(stableJson(key)).slice(0, 12)}`;
  const where = [browser, os, env.model].filter(Boolean).join(' ');
  const gpuNote = rt.data.provider === 'webgpu' && gpus[0] ? ` (${gpus[0].vendor} ${gpus[0].model})` : '';
  return DeviceProfileSchema.parse({
    id,
    name: `${where} ${rt.data.backend}:${rt.data.provider} t${rt.data.threads}${gpuNote}`.slice(0, 200),
    hardware: {
      cpu: env.model ? `${env.model} (${arch})` : `${os} ${arch} CPU`,
      cores,
      memoryBytes: (env.deviceMemory ?? 0) * GIB,
      os,
      arch,
      gpus,
      userAgent: env.userAgent,
    },
    runtime: rt.data,
  });
}

/** The GPU adapter's info (Chromium ≥ 127 `adapter.info`, older `requestAdapterInfo()`), or null. */
export async function adapterInfo(adapter: unknown): Promise<GpuAdapterInfo | null> {
  if (!adapter || typeof adapter !== 'object') return null;
  const a = adapter as { info?: GpuAdapterInfo; requestAdapterInfo?: () => Promise<GpuAdapterInfo>; isFallbackAdapter?: boolean };
  const info = a.info ?? (typeof a.requestAdapterInfo === 'function' ? await a.requestAdapterInfo().catch(() => undefined) : undefined);
  if (!info) return null;
  const fallback = (info as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? a.isFallbackAdapter;
  return {
    vendor: String(info.vendor ?? ''),
    architecture: String(info.architecture ?? ''),
    device: String(info.device ?? ''),
    description: String(info.description ?? ''),
    ...(fallback !== undefined ? { isFallbackAdapter: Boolean(fallback) } : {}),
  };
}

/**
 * Reads this browser's navigator (and userAgentData's high-entropy values where offered). `gpu` is
 * the info of the adapter the page measures with; pass null for a wasm device.
 */
export async function probeBrowser(gpu: GpuAdapterInfo | null = null): Promise<BrowserEnv> {
  const nav = globalThis.navigator as Navigator & {
    deviceMemory?: number;
    userAgentData?: { getHighEntropyValues(hints: string[]): Promise<{ architecture?: string; model?: string }> };
  };
  let architecture: string | undefined;
  let model: string | undefined;
  try {
    const hi = await nav.userAgentData?.getHighEntropyValues(['architecture', 'model']);
    architecture = hi?.architecture || undefined;
    model = hi?.model || undefined;
  } catch {
    // not offered (Firefox, Safari) or refused
  }
  return {
    userAgent: nav.userAgent,
    platform: nav.platform ?? '',
    hardwareConcurrency: nav.hardwareConcurrency ?? 0,
    ...(typeof nav.deviceMemory === 'number' ? { deviceMemory: nav.deviceMemory } : {}),
    ...(architecture ? { architecture } : {}),
    ...(model ? { model } : {}),
    gpu,
  };
}
