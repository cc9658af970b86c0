import { CALIBRATION_NETWORK, createBackend, networkItems, profileItems } from '../../agent/index.ts';
import { getSpace, type SearchSpace } from '../../ops-library/index.ts';

export interface MeasureArchOptions {
  /** intra-op threads (default 1, as the predictors' measurements) */
  threads?: number;
  warmup?: number;
  minRepeats?: number;
  minTimeMs?: number;
}

/**
 * Measures architectures of a space on this machine with the agent's harness (onnxruntime-node
 * CPU), interleaved with the calibration network: median ms per architecture and the pass's
 * calibration median. An empty list measures the calibration alone (the machine's speed now).
 *
 * @example
 * const { ms, calibrationMs } = await measureArchs(getSpace('fbnet'), [arch]);
 */
export async function measureArchs(space: SearchSpace, archs: readonly string[], o: MeasureArchOptions = {}): Promise<{ ms: number[]; calibrationMs: number | null }> {
  const backend = await createBackend('ort-node', { threads: o.threads ?? 1 });
  try {
    const items = archs.length > 0 ? networkItems(space, archs) : networkItems(getSpace(CALIBRATION_NETWORK.space), [CALIBRATION_NETWORK.arch]);
    const res = await profileItems(items, {
      backend, deviceId: 'local', passId: 'search', warmup: o.warmup ?? 5, minRepeats: o.minRepeats ?? 30, minTimeMs: o.minTimeMs ?? 300,
    });
    return { ms: archs.length > 0 ? res.measurements.map((m) => m.stats.median) : [], calibrationMs: res.calibrationMs };
  } finally {
    await backend.dispose();
  }
}
