import * as ort from 'onnxruntime-node';
import { makeFeedsWith, type TensorClass } from './input-feeds.ts';

export { concreteShape } from './input-feeds.ts';

/**
 * Input tensors for every session input of an onnxruntime-node session, filled with seeded
 * pseudo-random values (see makeFeedsWith, which ort-web shares).
 */
export function makeFeeds(session: ort.InferenceSession): Record<string, ort.Tensor> {
  return makeFeedsWith(ort.Tensor as unknown as TensorClass, session) as Record<string, ort.Tensor>;
}
