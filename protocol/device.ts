import { z } from 'zod';

/** Runtime a device measures with: backend name, execution provider, runtime version and threads. */
export const RuntimeInfoSchema = z.object({
  backend: z.string().min(1).describe("registered backend name, e.g. 'ort-node'"),
  provider: z.string().min(1).describe("execution provider, e.g. 'cpu', 'cuda', 'wasm', 'webgpu'"),
  version: z.string().min(1).describe('runtime version, e.g. onnxruntime 1.30.0'),
  threads: z.number().int().min(0).describe('intra-op threads (0 = runtime default)'),
});
export type RuntimeInfo = z.infer<typeof RuntimeInfoSchema>;

/** Hardware fingerprint: what the latency of a device depends on besides the runtime. */
export const HardwareInfoSchema = z.object({
  cpu: z.string(),
  cores: z.number().int().min(0),
  physicalCores: z.number().int().min(0).optional(),
  memoryBytes: z.number().min(0),
  os: z.string(),
  arch: z.string(),
  gpus: z.array(z.object({ vendor: z.string(), model: z.string(), vramMb: z.number().optional() })).default([]),
  host: z.string().optional(),
  userAgent: z.string().optional(),
});
export type HardwareInfo = z.infer<typeof HardwareInfoSchema>;

/** A device = hardware + runtime; its id is derived from both (see agent/fingerprint). */
export const DeviceProfileSchema = z.object({
  id: z.string().regex(/^dev-[0-9a-f]{12}$/, "device id must look like 'dev-' + 12 hex digits"),
  name: z.string().min(1),
  hardware: HardwareInfoSchema,
  runtime: RuntimeInfoSchema,
});
export type DeviceProfile = z.infer<typeof DeviceProfileSchema>;
