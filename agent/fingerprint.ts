import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import si from 'systeminformation';
import { DeviceProfileSchema, invalidArgumentError, RuntimeInfoSchema } from '../protocol/index.ts';
import type { DeviceProfile, HardwareInfo, RuntimeInfo } from '../protocol/index.ts';

const GPU_TIMEOUT_MS = 3000;
const GIB = 1024 ** 3;

/** What the device id hashes besides the runtime: fields that change latency, not the host's name or uptime. */
interface HardwareKey {
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  arch: string;
  gpus: string[];
}

interface Probed {
  hardware: HardwareInfo;
  key: HardwareKey;
}

/** Resolves to `fallback` instead of hanging: GPU probing shells out (lspci, nvidia-smi) and can stall. */
async function within<T>(ms: number, work: Promise<T>, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms);
    timer.unref();
  });
  try {
    return await Promise.race([work.catch(() => fallback), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function probeHardware(): Promise<Probed> {
  const [cpu, mem, os, graphics] = await Promise.all([
    si.cpu(),
    si.mem(),
    si.osInfo(),
    within(GPU_TIMEOUT_MS, si.graphics(), null),
  ]);
  // Some CPUs put the vendor in the brand string already ('Intel(R) Xeon(R) …'), some do not ('EPYC').
  const brand = cpu.brand.trim();
  const vendor = cpu.manufacturer.trim();
  const cpuName = (vendor && !brand.startsWith(vendor) ? `${vendor} ${brand}` : brand).trim() || 'unknown cpu';
  const gpus = (graphics?.controllers ?? [])
    .filter((c) => c.model)
    .map((c) => ({ vendor: c.vendor || 'unknown', model: c.model, ...(c.vram ? { vramMb: c.vram } : {}) }));
  // The kernel patch level changes with every security update and does not move latencies.
  const osName = `${os.distro} ${os.release}`.trim() || os.platform;
  const hardware: HardwareInfo = {
    cpu: cpuName,
    cores: cpu.cores,
    physicalCores: cpu.physicalCores,
    memoryBytes: mem.total,
    os: os.kernel ? `${osName}; kernel ${os.kernel}` : osName,
    arch: os.arch || process.arch,
    gpus,
    host: hostname(),
  };
  const key: HardwareKey = {
    cpu: cpuName,
    cores: cpu.cores,
    memoryGiB: Math.round(mem.total / GIB),
    os: osName,
    arch: hardware.arch,
    gpus: gpus.map((g) => g.model).sort(),
  };
  return { hardware, key };
}

// Hardware does not change while the process runs; probing it takes ~100 ms.
let probed: Promise<Probed> | null = null;

/** JSON with sorted keys, so the id does not depend on property order. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** 'AMD EPYC 7B13 64-Core Processor' → 'AMD EPYC 7B13': names should fit a table column. */
function shortCpu(cpu: string): string {
  return cpu
    .replace(/\((R|TM|C)\)/gi, '')
    .replace(/@.*$/, '')
    .replace(/\b(\d+-Core )?(Processor|CPU)\b/gi, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * This device's profile: hardware from systeminformation plus the runtime it measures with.
 * The id is 'dev-' + 12 hex digits of sha256 over the latency-relevant fields, so the same
 * hardware with the same runtime settings always gets the same id, and changing threads,
 * provider or runtime version gives a new device (its latencies are not comparable).
 *
 * @example
 * const backend = await createBackend('ort-node', { threads: 1 });
 * const profile = await fingerprint(backend.info);
 * console.log(profile.id, profile.name); // dev-3f9a0c1b2d4e AMD EPYC ort-node:cpu t1
 */
export async function fingerprint(runtime: RuntimeInfo): Promise<DeviceProfile> {
  const parsed = RuntimeInfoSchema.safeParse(runtime);
  if (!parsed.success) {
    throw invalidArgumentError(parsed.error, 'runtime');
  }
  const rt = parsed.data;
  probed ??= probeHardware().catch((e: unknown) => {
    probed = null;
    throw e;
  });
  const { hardware, key } = await probed;
  const idSource = stableJson({
    ...key,
    backend: rt.backend,
    provider: rt.provider,
    version: rt.version,
    threads: rt.threads,
  });
  const id = `dev-${createHash('sha256').update(idSource).digest('hex').slice(0, 12)}`;
  const name = `${shortCpu(hardware.cpu)} ${rt.backend}:${rt.provider} t${rt.threads}`;
  return DeviceProfileSchema.parse({ id, name, hardware, runtime: rt });
}
