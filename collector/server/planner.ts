import { getSpace, sampleArchs, spaceUnits } from '../../ops-library/index.ts';
import type { CampaignRequest, JobTask } from '../../protocol/index.ts';

/**
 * The device-independent task list of a campaign: the space's distinct layer keys (op level) and
 * N seeded sampled networks. Jobs are these tasks × each matching device.
 */
export function planTasks(request: CampaignRequest): JobTask[] {
  const space = getSpace(request.space);
  const tasks: JobTask[] = [];
  if (request.ops) {
    const units = [...spaceUnits(space)].slice(0, request.maxOps);
    for (const [key, spec] of units) tasks.push({ level: 'op', space: space.name, key, spec: spec as unknown as Record<string, unknown> });
  }
  if (request.networks > 0) {
    for (const arch of sampleArchs(space, { count: request.networks, seed: request.seed })) {
      tasks.push({ level: 'network', space: space.name, key: arch });
    }
  }
  return tasks;
}
