import { z } from 'zod';

/**
 * Kernels timed in context: what an agent reports when it runs a whole network (or a kernel
 * campaign's small graph) with the runtime's profiler on. Each kernel is one node of the runtime's
 * optimised graph (ops-library/kernels/types.ts `TimedKernel`), so the per-kernel data carries
 * the fused, cached, in-network cost and not that of an op run alone.
 */

/** The largest time (ms) a kernel or a profiled run may report; as MAX_LATENCY_MS for measurements. */
export const MAX_KERNEL_MS = 1e6;
/** More kernels than this in one profile is not a network an agent measures (ResNet-50 runs 59 on ORT's CPU EP). */
export const MAX_KERNELS = 5000;

const KernelMsSchema = z.number().nonnegative().max(MAX_KERNEL_MS);
const ShapeSchema = z.array(z.number().int().min(0)).max(16).readonly();
const AttrValueSchema = z.union([z.number(), z.string().max(1000), z.array(z.number()).max(1024).readonly()]);

/** ops-library's RuntimeKernel on the wire (read-only like it, so either converts to the other). */
export const RuntimeKernelSchema = z.object({
  /** op type, domain-qualified outside the default domain: 'Conv', 'com.microsoft:FusedConv', 'com.microsoft.nchwc:Conv' */
  op: z.string().min(1).max(200),
  attrs: z.record(z.string().max(200), AttrValueSchema).readonly(),
  inputs: z.array(ShapeSchema).max(64).readonly(),
  outputs: z.array(ShapeSchema).max(64).readonly(),
  /** the source-graph nodes this kernel covers (fused ones included) */
  nodes: z.array(z.string().max(1000)).max(1000).readonly(),
});

/** ops-library's TimedKernel on the wire: a runtime kernel, its node name and its median time in the run. */
export const TimedKernelSchema = RuntimeKernelSchema.extend({
  name: z.string().max(1000),
  ms: KernelMsSchema,
});
export type TimedKernelRecord = z.infer<typeof TimedKernelSchema>;

/**
 * One profiled model: its kernels in execution order, each with its median time over `runs` runs
 * after `warmup` warm-up runs, the median whole run (`runMs`, the runtime's own run event) and the
 * median per-run sum of kernel times (`kernelSumMs` <= `runMs`). The gap between the two is what
 * the runtime spends between kernels (scheduling, allocation, the profiler's own bookkeeping).
 */
export const KernelProfileSchema = z
  .object({
    runs: z.number().int().min(1).max(100_000),
    warmup: z.number().int().min(0).max(100_000),
    runMs: KernelMsSchema,
    kernelSumMs: KernelMsSchema,
    kernels: z.array(TimedKernelSchema).min(1).max(MAX_KERNELS).readonly(),
  })
  .refine((p) => p.kernelSumMs <= p.runMs * (1 + 1e-9), { message: "'kernelSumMs' must not exceed 'runMs': kernels run inside the run", path: ['kernelSumMs'] });
export type KernelProfile = z.infer<typeof KernelProfileSchema>;

/** Where a stored kernel profile came from: a measured network, or a kernel campaign's sample graph. */
export const KernelSourceSchema = z.enum(['network', 'sample']);
export type KernelSource = z.infer<typeof KernelSourceSchema>;

/**
 * A kernel profile as stored (collector/store): which device ran it, what was profiled, and — for
 * a network — the network measurement (harness-timed, profiler off) it belongs to, so the gap
 * between Σ kernels and the network's real latency can be learned.
 */
export const KernelProfileRecordSchema = z
  .object({
    /** client-generated; the store ignores duplicates */
    id: z.string().min(8).max(200),
    deviceId: z.string().min(1),
    source: KernelSourceSchema,
    /** the network-level measurement of the same network (source 'network'); null for local profiles without one and for samples */
    measurementId: z.string().min(1).nullable(),
    /** the network's space (source 'network'); null for samples */
    space: z.string().min(1).nullable(),
    /** arch string (network) or sample key (sample) */
    key: z.string().min(1).max(2000),
    /** the sample's configuration (source 'sample'), as ops-library/kernels/campaign.ts defines it */
    spec: z.unknown().optional(),
    batch: z.number().int().min(1),
    /**
     * the calibration workload's latency near this profile (conditions/networks.ts), so profiles
     * from different passes can be normalised like measurements; null when none was measured
     */
    calibrationMs: z.number().positive().max(MAX_KERNEL_MS).nullable(),
    profile: KernelProfileSchema,
    createdAt: z.string(),
  })
  .refine((r) => r.source === 'network' || r.measurementId === null, { message: "a sample profile has no network measurement: 'measurementId' must be null", path: ['measurementId'] });
export type KernelProfileRecord = z.infer<typeof KernelProfileRecordSchema>;
