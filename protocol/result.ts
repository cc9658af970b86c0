import type { JobTask } from './job.ts';
import type { Measurement, MeasurementLevel } from './measurement.ts';
import type { ResultMessage } from './messages.ts';

/** What a result message names besides its measurement: the job it completes and the agent's pass. */
export interface ResultIds {
  jobId: string;
  passId: string;
}

/** What the collector knows of a result that its message leaves out: the job's task and the sending device. */
export interface ResultJobContext {
  task: JobTask;
  deviceId: string;
}

/**
 * The result message of a measured job (agent side). It carries the measurement's id and figures
 * only: what was measured (level, space, key, spec) is the job's task and the device is the
 * connection's, so the collector rebuilds the measurement from those (measurementOfResult) rather
 * than trusting the agent's copy. A kernel profile is attached afterwards (agent/kernel-profile.ts).
 *
 * @example
 * conn.submit(resultOfMeasurement(measurement, { jobId: job.id, passId: pass.id }));
 */
export function resultOfMeasurement(m: Measurement, ids: ResultIds): ResultMessage {
  return { type: 'result', resultId: m.id, jobId: ids.jobId, passId: ids.passId, ...figures(m, m.level) };
}

/**
 * The measurement a result message completes (collector side): the message's figures with the
 * job's task and the device that sent it. The inverse of resultOfMeasurement for everything the
 * message carries; the kernel profile, if any, is not part of the measurement (stored beside it).
 *
 * @example
 * const measurement = measurementOfResult(msg, { task: job.task, deviceId: session.deviceId });
 */
export function measurementOfResult(msg: ResultMessage, job: ResultJobContext): Measurement {
  const { task } = job;
  return {
    id: msg.resultId,
    deviceId: job.deviceId,
    passId: msg.passId,
    level: task.level,
    space: task.space,
    key: task.key,
    spec: task.level === 'op' ? task.spec : null,
    ...figures(msg, task.level),
    jobId: msg.jobId,
  };
}

type Figures = Pick<Measurement, 'stats' | 'batch' | 'warmup' | 'wallMs' | 'calibrationMs' | 'anchorMs' | 'cold' | 'quality' | 'createdAt'>;

/**
 * The figures a measurement and its result message share, copied the same way in both directions.
 * A calibration or anchor latency is kept only when > 0 (the message's schema allows null or a
 * positive figure); an anchor only with a network measurement (an op has none, whatever an agent
 * sends); cold statistics and the quality verdict only when present (older agents send neither).
 */
function figures(from: Figures, level: MeasurementLevel): Figures {
  return {
    stats: from.stats,
    batch: from.batch,
    warmup: from.warmup,
    wallMs: from.wallMs,
    calibrationMs: positiveOrNull(from.calibrationMs),
    ...(level === 'network' && positiveOrNull(from.anchorMs) !== null ? { anchorMs: from.anchorMs } : {}),
    ...(from.cold ? { cold: from.cold } : {}),
    ...(from.quality ? { quality: from.quality } : {}),
    createdAt: from.createdAt,
  };
}

function positiveOrNull(ms: number | null | undefined): number | null {
  return typeof ms === 'number' && ms > 0 ? ms : null;
}
