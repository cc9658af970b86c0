import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { getSpace } from '../../../ops-library/index.ts';
import { initTf, tf } from '../../../predictor/index.ts';
import { loadMnist, runSearch, Supernet } from '../../../cli/search/index.ts';
import { depthwise, pointwise } from '../../../cli/search/ops.ts';

before(async () => {
  await initTf();
});

test('the depthwise convolution\'s hand-written gradient (wasm has none) matches finite differences', () => {
  for (const [k, s] of [[3, 1], [5, 2]] as const) {
    const x = tf.randomNormal([2, 6, 6, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const w = tf.randomNormal([k, k, 3, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
    const probe = tf.randomNormal(depthwise(x, w, s).shape, 0, 1, 'float32', 3);
    const f = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(depthwise(a as tf.Tensor4D, b as tf.Tensor4D, s), probe)) as tf.Scalar;
    const [gx, gw] = tf.grads(f)([x, w]) as [tf.Tensor, tf.Tensor];
    const fd = (t: tf.Tensor, i: number, which: 0 | 1) => {
      const d = t.dataSync().slice();
      const eps = 1e-2;
      d[i] = (d[i] as number) + eps;
      const p = tf.tensor(d, t.shape);
      d[i] = (d[i] as number) - 2 * eps;
      const m = tf.tensor(d, t.shape);
      const v = (which ? f(x, p) : f(p, w)).dataSync()[0]! - (which ? f(x, m) : f(m, w)).dataSync()[0]!;
      return v / (2 * eps);
    };
    for (const i of [0, 7, 40]) {
      const a = gx.dataSync()[i] as number;
      assert.ok(Math.abs(a - fd(x, i, 0)) < 2e-2 * Math.max(1, Math.abs(a)), `k${k} s${s} dx[${i}]: ${a} vs ${fd(x, i, 0)}`);
    }
    for (const i of [0, 4, k * k * 3 - 1]) {
      const a = gw.dataSync()[i] as number;
      assert.ok(Math.abs(a - fd(w, i, 1)) < 2e-2 * Math.max(1, Math.abs(a)), `k${k} s${s} dw[${i}]: ${a} vs ${fd(w, i, 1)}`);
    }
    // and the forward pass is tfjs's own depthwise convolution at stride 1
    if (s === 1) assert.ok(tf.max(tf.abs(tf.sub(depthwise(x, w, 1), tf.depthwiseConv2d(x, w, 1, 'same')))).dataSync()[0]! < 1e-5);
  }
  const x = tf.ones([1, 2, 2, 3]) as tf.Tensor4D;
  assert.deepEqual(pointwise(x, tf.ones([3, 5]) as tf.Tensor2D).shape, [1, 2, 2, 5]);
});

test('the supernet covers FBNet and ProxylessNAS layers; other spaces are refused by name', () => {
  const fb = new Supernet(getSpace('fbnet'));
  assert.equal(fb.layers.length, 22);
  const px = new Supernet(getSpace('proxyless-mobile'));
  assert.equal(px.layers.length, 21);
  const x = tf.zeros([2, 14, 14, 1]) as tf.Tensor4D;
  const paths = px.layers.map((l) => [l.candidates.length - 1]);
  assert.deepEqual(px.logits(x, paths, paths.map(() => null)).shape, [2, 10]);
  fb.dispose();
  px.dispose();
  assert.throws(() => new Supernet(getSpace('nasbench201')), /needs a layer-wise space .* got 'nasbench201'/);
});

test('runSearch: bad options are named', async () => {
  const { train, test: held } = loadMnist({ train: 40, test: 10 });
  await assert.rejects(runSearch({ space: getSpace('fbnet'), latency: null, train, test: held, sampler: 'random' as never }), /'sampler' must be one of two-path, gumbel, got 'random'/);
  await assert.rejects(runSearch({ space: getSpace('fbnet'), latency: null, train, test: held, searchSteps: -1 }), /'searchSteps' must be an integer >= 0, got -1/);
  assert.throws(() => loadMnist({ train: 5000, test: 5000 }), /the mnist package has \d+ of the rarest digit/);
});
