import { tf } from '../../predictor/index.ts';

// tfjs's wasm backend registers Conv2D and DepthwiseConv2dNative but none of their gradient
// kernels, and its pure-JS 'cpu' backend trains this supernet ~30× slower. So the supernet is
// built only from ops whose gradients run on wasm: 1×1 convolutions as matMul, depthwise
// convolutions with a custom gradient made of depthwise convolutions, strides as 1×1 pooling.

/** 1×1 convolution: x [n, h, w, cin] · k [cin, cout]. */
export function pointwise(x: tf.Tensor4D, k: tf.Tensor2D): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  return tf.reshape(tf.matMul(tf.reshape(x, [n * h * w, c]), k), [n, h, w, k.shape[1]]) as tf.Tensor4D;
}

/** Keeps every s-th row and column (a strided layer's sampling grid). */
export function subsample(x: tf.Tensor4D, s: number): tf.Tensor4D {
  return s === 1 ? x : (tf.avgPool(x, 1, s, 'valid') as tf.Tensor4D);
}

/**
 * Depthwise K×K convolution (odd K, stride 1, zero 'same' padding) with its gradient written in
 * depthwise convolutions: dx = dw-conv of dy with the flipped kernel; dk[i,j,c] = Σ x_pad·dy,
 * computed as one 'valid' depthwise conv whose channels are (image, channel) pairs.
 */
const depthwiseSame = tf.customGrad(((x: tf.Tensor4D, k: tf.Tensor4D, save: (t: tf.Tensor[]) => void) => {
  save([x, k]);
  return {
    value: tf.depthwiseConv2d(x, k, 1, 'same'),
    gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
      const [xs, ks] = saved as [tf.Tensor4D, tf.Tensor4D];
      const K = ks.shape[0];
      const p = (K - 1) / 2;
      const dx = tf.depthwiseConv2d(dy, tf.reverse(ks, [0, 1]) as tf.Tensor4D, 1, 'same');
      const [n, h, w, c] = xs.shape;
      const xp = tf.pad(xs, [[0, 0], [p, p], [p, p], [0, 0]]);
      const xin = tf.reshape(tf.transpose(xp, [1, 2, 0, 3]), [1, h + 2 * p, w + 2 * p, n * c]) as tf.Tensor4D;
      const filt = tf.reshape(tf.transpose(dy, [1, 2, 0, 3]), [h, w, n * c, 1]) as tf.Tensor4D;
      const dk = tf.reshape(tf.sum(tf.reshape(tf.depthwiseConv2d(xin, filt, 1, 'valid'), [K, K, n, c]), 2), [K, K, c, 1]);
      return [dx, dk];
    },
  };
}) as never) as (x: tf.Tensor4D, k: tf.Tensor4D) => tf.Tensor4D;

/** Depthwise K×K convolution with stride s (computed at stride 1, then sampled). */
export function depthwise(x: tf.Tensor4D, k: tf.Tensor4D, s: number): tf.Tensor4D {
  return subsample(depthwiseSame(x, k), s);
}
