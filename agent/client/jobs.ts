import { networkOnnx, opOnnx, validateSpec, type OpSpec } from '../../ops-library/index.ts';
import type { Job, JobTask, MeasureSettings } from '../../protocol/index.ts';
import type { ProfileItem } from '../profiler.ts';

/**
 * The ONNX model of a job's task, built here from the job alone: an op spec is validated and
 * lowered, a network is expanded from its space and arch string. Throws the ops-library's typed
 * error (unknown op or space, bad field, bad arch string) for a task that cannot be built.
 */
export function buildTaskModel(task: JobTask, batch: number): Uint8Array {
  if (task.level === 'op') {
    const spec: unknown = task.spec;
    validateSpec(spec);
    return opOnnx(spec, { batch });
  }
  return networkOnnx(task.space, task.key, { batch });
}

/**
 * A profiler item for a job. The model is built now (so a job that cannot be built fails here,
 * alone, before anything is loaded) at the job's batch size, and kept for the measurement.
 */
export function jobItem(job: Job): ProfileItem {
  const built = buildTaskModel(job.task, job.settings.batch);
  const { task } = job;
  return {
    level: task.level,
    space: task.space,
    key: task.key,
    // buildTaskModel validated it
    ...(task.level === 'op' ? { spec: task.spec as unknown as OpSpec } : {}),
    model: (batch) => (batch === job.settings.batch ? built : buildTaskModel(task, batch)),
  };
}

/** Jobs with the same measurement settings, in lease order; each group is measured in one interleaved pass. */
export function groupBySettings<T extends { settings: MeasureSettings }>(jobs: readonly T[]): Array<{ settings: MeasureSettings; jobs: T[] }> {
  const groups = new Map<string, { settings: MeasureSettings; jobs: T[] }>();
  for (const job of jobs) {
    const s = job.settings;
    const key = `${s.batch}/${s.warmup}/${s.minRepeats}/${s.minTimeMs}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { settings: s, jobs: [] }));
    g.jobs.push(job);
  }
  return [...groups.values()];
}
