import seedrandom from 'seedrandom';
import { LatencyPredictor } from '../../predictor/index.ts';
import { makeRegressor } from '../../predictor/regressors.ts';
import { tf } from '../../predictor/tf.ts';

/** The predictor with a residual MLP of random (non-zero) weights: the composite's nonlinear path. */
export function withResidual(p: LatencyPredictor, seed: string): LatencyPredictor {
  const inputs = p.space.positions.reduce((a, pos) => a + pos.choices.length, 0);
  const spec = { inputs, hidden: [16] };
  const model = makeRegressor(spec);
  const rng = seedrandom.alea(seed);
  model.setWeights(model.getWeights().map((w) => tf.tensor(Array.from({ length: w.size }, () => (rng() - 0.5) * 0.6), w.shape)));
  return new LatencyPredictor({ ...p.data, residual: spec }, p.encodingModel, model);
}

/** The predictor's composite without a residual MLP: the linear correction alone. */
export const withoutResidual = (p: LatencyPredictor) => new LatencyPredictor({ ...p.data, residual: null }, p.encodingModel, null);
