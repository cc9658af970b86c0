import { loadPredictor } from '../model-dir.ts';
import { initTf } from '../tf.ts';
import { LatencyModel } from './model.ts';
import type { LatencyModelOptions } from './types.ts';

/**
 * Loads a predictor directory (from `hwlat train` or savePredictor) as a differentiable
 * expected-latency model.
 *
 * @example
 * const model = await loadLatencyModel('models/fbnet');
 * const lat = model.expected(tf.softmax(alpha)); // inside tf.grad / optimizer.minimize
 */
export async function loadLatencyModel(dir: string, options: LatencyModelOptions = {}): Promise<LatencyModel> {
  await initTf();
  return LatencyModel.fromPredictor(await loadPredictor(dir), options);
}
