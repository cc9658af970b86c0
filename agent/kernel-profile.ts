import { MAX_MESSAGE_BYTES, type Job, type KernelProfile, type ResultMessage } from '../protocol/index.ts';

// Kernel-profiling jobs (a network task with `kernels: true`): the network is measured as every
// network is (agent/profiler.ts, profiler off), then run again with the runtime's profiler on,
// and its kernels timed in context ride along with the result. Runtime-agnostic (no Node
// imports): the agent loop, which the browser page shares, calls this; the profiler itself is
// given by the Node agent (agent/backends/kernel-profilers.ts).

/** Runs a model with its runtime's profiler on and returns its kernels timed in context. */
export interface KernelProfiler {
  /** what it profiles with, for logs: 'ort-node:cpu', 'ort-web:wasm' */
  readonly name: string;
  profile(model: Uint8Array): Promise<KernelProfile>;
}

/** What happened to a job's kernels, for the agent's log. */
export type KernelOutcome =
  | { kernels: 'attached'; count: number; runMs: number; kernelSumMs: number }
  | { kernels: 'unavailable'; reason: string };

/** Whether a job asks for its kernels. */
export function wantsKernels(job: Job): boolean {
  return job.task.level === 'network' && job.task.kernels === true;
}

/** The JSON size a message takes on the wire (UTF-8 bytes). */
function wireBytes(msg: unknown): number {
  return new TextEncoder().encode(JSON.stringify(msg)).length;
}

/**
 * Adds the job's kernels to its result when the job asks for them. Never fails the result: without
 * a profiler (a browser), when profiling throws, or when the kernels would make the message larger
 * than the collector takes (MAX_MESSAGE_BYTES), the result goes without them and the outcome
 * says why; the measurement itself is worth sending either way.
 *
 * @example
 * const { result, outcome } = await attachKernels(resultOfMeasurement(m, { jobId: job.id, passId }), job, () => bytes, profiler);
 */
export async function attachKernels(
  result: ResultMessage,
  job: Job,
  model: () => Uint8Array,
  profiler: KernelProfiler | undefined,
): Promise<{ result: ResultMessage; outcome: KernelOutcome | null }> {
  if (!wantsKernels(job)) return { result, outcome: null };
  if (!profiler) return { result, outcome: { kernels: 'unavailable', reason: "this agent's backend cannot profile kernels" } };
  let profile: KernelProfile;
  try {
    profile = await profiler.profile(model());
  } catch (e) {
    return { result, outcome: { kernels: 'unavailable', reason: `profiling failed: ${(e as Error).message}` } };
  }
  const withKernels: ResultMessage = { ...result, kernels: { runs: profile.runs, warmup: profile.warmup, runMs: profile.runMs, kernelSumMs: profile.kernelSumMs, kernels: profile.kernels } };
  const bytes = wireBytes(withKernels);
  // leave room for the envelope a transport may add
  if (bytes > MAX_MESSAGE_BYTES - 1024) {
    return { result, outcome: { kernels: 'unavailable', reason: `${profile.kernels.length} kernels make the result ${bytes} bytes, over the collector's ${MAX_MESSAGE_BYTES}` } };
  }
  return { result: withKernels, outcome: { kernels: 'attached', count: profile.kernels.length, runMs: profile.runMs, kernelSumMs: profile.kernelSumMs } };
}
