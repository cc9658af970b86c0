import { getSpace, opUnitsToMeasure, sampleArchs } from '../../ops-library/index.ts';
import type { CampaignRequest, JobTask } from '../../protocol/index.ts';

/**
 * The device-independent task list of a campaign: the space's distinct layer keys (op level) and
 * N seeded sampled networks, plus, for a few-shot campaign, the K networks `fewshotPlan` picks
 * (the collector plans them from the fleet's measurements). With `kernels`, every network task is a
 * kernel-profiling job: its result carries the network's kernels timed in context. Jobs are these
 * tasks × each matching device.
 */
export function planTasks(request: CampaignRequest, fewshotPlan?: (space: string, k: number, seed: number) => string[]): JobTask[] {
  const space = getSpace(request.space);
  const tasks: JobTask[] = [];
  // kernel-profiling jobs: the agent measures the network, then runs it again with the profiler on
  const kernels = request.kernels ? { kernels: true } : {};
  if (request.ops) {
    for (const [key, spec] of opUnitsToMeasure(space, { maxOps: request.maxOps })) tasks.push({ level: 'op', space: space.name, key, spec: spec as unknown as Record<string, unknown> });
  }
  if (request.networks > 0) {
    for (const arch of sampleArchs(space, { count: request.networks, seed: request.seed })) {
      tasks.push({ level: 'network', space: space.name, key: arch, ...kernels });
    }
  }
  if (request.fewshot) {
    // the few-shot plan's networks, skipping any the sampled networks already hold
    if (!fewshotPlan) throw new RangeError("'fewshot' campaigns need the fleet's measurements to plan from");
    const have = new Set(tasks.filter((t) => t.level === 'network').map((t) => t.key));
    for (const arch of fewshotPlan(space.name, request.fewshot, request.seed)) if (!have.has(arch)) tasks.push({ level: 'network', space: space.name, key: arch, ...kernels });
  }
  return tasks;
}
