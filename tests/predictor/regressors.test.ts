import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeRegressor, predictRows } from '../../predictor/regressors.ts';
import { relativeRidge } from '../../predictor/ridge.ts';
import { initTf, tf } from '../../predictor/tf.ts';

test('the plain-JS forward pass (small batches) equals tfjs (large batches)', async () => {
  await initTf();
  const m = makeRegressor({ inputs: 12, hidden: [16, 8] });
  const last = m.layers[m.layers.length - 1] as tf.layers.Layer;
  last.setWeights([tf.randomNormal([8, 1], 0, 1, 'float32', 3), tf.tensor1d([0.25])]);
  const rows = 100;
  const x = new Float32Array(rows * 12).map((_, i) => Math.sin(i * 0.7));
  const big = predictRows(m, x, rows, 12); // tfjs path
  const small = predictRows(m, x.subarray(0, 10 * 12), 10, 12); // JS path
  for (let i = 0; i < 10; i++) assert.ok(Math.abs((small[i] as number) - (big[i] as number)) < 1e-5, `row ${i}: ${small[i]} vs ${big[i]}`);
  assert.ok(big.some((v) => Math.abs(v - 0.25) > 1e-3), 'the network is not trivially constant');
});

test('relativeRidge recovers an exact linear relation and shrinks toward its prior', () => {
  const x = Array.from({ length: 40 }, (_, i) => [1 + i, (i * 7) % 5]);
  const y = x.map(([a, b]) => 2 * (a as number) + 3 * (b as number) + 1);
  const fit = relativeRidge({ x, y, prior: [0, 0], lambda: 0 });
  assert.ok(Math.abs((fit.kernel[0] as number) - 2) < 1e-8 && Math.abs((fit.kernel[1] as number) - 3) < 1e-8 && Math.abs(fit.bias - 1) < 1e-6, JSON.stringify(fit));
  const shrunk = relativeRidge({ x, y, prior: [2, 0], lambda: 100 });
  assert.ok(Math.abs((shrunk.kernel[1] as number)) < 1, `strong ridge pulls the second weight toward its prior 0, got ${shrunk.kernel[1]}`);
  assert.throws(() => relativeRidge({ x: [], y: [], prior: [0], lambda: 0 }), /'y' must hold at least 1 sample/);
});
