import { z } from 'zod';

/** How a job is measured: the harness settings the campaign asks for. */
export const MeasureSettingsSchema = z.object({
  batch: z.number().int().min(1).max(4096).default(1),
  warmup: z.number().int().min(0).max(1000).default(3),
  minRepeats: z.number().int().min(1).max(100_000).default(10),
  minTimeMs: z.number().min(0).max(600_000).default(200),
});
export type MeasureSettings = z.infer<typeof MeasureSettingsSchema>;

/**
 * What a job measures. Jobs stay small: the agent builds the ONNX model itself from the op spec
 * (op level) or the space + arch string (network level) with ops-library.
 */
export const JobTaskSchema = z.discriminatedUnion('level', [
  z.object({ level: z.literal('op'), space: z.string().nullable(), key: z.string().min(1), spec: z.record(z.string(), z.unknown()) }),
  z.object({
    level: z.literal('network'),
    space: z.string().min(1),
    key: z.string().min(1).describe('arch string'),
    /** also run the network with the runtime's profiler on and report its kernels timed in context (result `kernels`) */
    kernels: z.boolean().optional(),
  }),
]);
export type JobTask = z.infer<typeof JobTaskSchema>;

/** A job as leased to an agent: one task for one device, with its measurement settings. */
export const JobSchema = z.object({
  id: z.string().min(1),
  campaignId: z.string().min(1),
  task: JobTaskSchema,
  settings: MeasureSettingsSchema,
});
export type Job = z.infer<typeof JobSchema>;

/** POST /api/campaigns: which space, what to measure, on which devices. */
export const CampaignRequestSchema = z
  .object({
    space: z.string().min(1),
    ops: z.boolean().default(false),
    /** at most this many op-level keys (a quick sample); all when absent */
    maxOps: z.number().int().min(1).optional(),
    networks: z.number().int().min(0).max(100_000).default(0),
    /** profile the kernels of every network of the campaign too (agents that cannot profile send the network alone) */
    kernels: z.boolean().optional(),
    seed: z.number().int().min(0).default(0),
    /** 'all' = every device, including ones that register later */
    devices: z.union([z.literal('all'), z.array(z.string().min(1)).min(1)]).default('all'),
    settings: MeasureSettingsSchema.default({ batch: 1, warmup: 3, minRepeats: 10, minTimeMs: 200 }),
    name: z.string().max(200).optional(),
    /** also measure the K networks the few-shot plan picks from the fleet's measurements (then `hwlat fewshot --db --device` predicts the rest) */
    fewshot: z.number().int().min(1).max(1000).optional(),
  })
  .refine((c) => c.ops || c.networks > 0 || (c.fewshot ?? 0) > 0, { message: "a campaign needs 'ops: true', 'networks' >= 1 and/or 'fewshot' >= 1", path: ['networks'] })
  .refine((c) => !c.kernels || c.networks > 0 || (c.fewshot ?? 0) > 0, { message: "'kernels: true' profiles the campaign's networks: ask for 'networks' >= 1 or 'fewshot' >= 1", path: ['kernels'] });
export type CampaignRequest = z.infer<typeof CampaignRequestSchema>;

export const CampaignSchema = z.object({
  id: z.string().min(1),
  createdAt: z.string(),
  request: CampaignRequestSchema,
  tasks: z.number().int().min(0),
});
export type Campaign = z.infer<typeof CampaignSchema>;

/**
 * Progress of one campaign on one device: queued + leased + done + failed = total. `failed` jobs
 * are the ones the collector gave up on (they failed on the device too often and are no longer
 * leased); they are not `queued`, so a campaign is finished when done + failed = total (see
 * campaignFinished), and done = total only when every job was measured.
 */
export const CampaignProgressSchema = z.object({
  deviceId: z.string(),
  total: z.number().int(),
  queued: z.number().int(),
  leased: z.number().int(),
  done: z.number().int(),
  failed: z.number().int(),
});
export type CampaignProgress = z.infer<typeof CampaignProgressSchema>;

/**
 * Whether nothing is left to do on this device: every job is done or given up. A campaign is
 * finished when this holds for every device of its progress.
 *
 * @example
 * campaignFinished({ deviceId: 'dev-1', total: 3, queued: 0, leased: 0, done: 2, failed: 1 }); // true
 */
export function campaignFinished(progress: Pick<CampaignProgress, 'total' | 'done' | 'failed'>): boolean {
  return progress.done + progress.failed === progress.total;
}
