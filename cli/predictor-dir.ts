import { getSpace } from '../ops-library/index.ts';
import { loadPredictor, type LatencyPredictor } from '../predictor/index.ts';

/** A predictor directory that must be of `space` (the flag is checked against the directory). */
export async function predictorOf(dir: string, space: string): Promise<LatencyPredictor> {
  getSpace(space); // an unknown space is named before the directory is read
  const predictor = await loadPredictor(dir);
  if (predictor.data.space !== space) throw new RangeError(`'--space ${space}' does not match the predictor's space '${predictor.data.space}'`);
  return predictor;
}
