import { buildOnnx, getSpace, lowerNetwork } from '../ops-library/index.ts';

/**
 * One fixed network per search space, measured in every interleaved round of a group of that
 * space's networks, beside the calibration workload. Its median goes with each of the group's
 * network measurements (`anchorMs`), and the predictor normalises by it: a network of the space
 * follows its own space's anchor when the machine's speed moves far more closely than it follows
 * the calibration network (FBNet k3_e1 ×22), whose depthwise convolutions are memory-bound. On this
 * machine NAS-Bench-201 re-measurements agreed within ±10% for 97.7% of networks after calibration
 * normalisation with the learned exponent and for 98.5% after normalising by this anchor
 * (docs/benchmarks.md, anchor normalisation).
 *
 * Frozen: a stored anchorMs means "this network in that round", so an entry never changes (a new
 * space gets a new entry; spaces without one get no anchor). Mid-sized members of each space,
 * drawn once (sampleArchs seed 4242; NAS-Bench-201's is the one of the experiment).
 */
export const ANCHOR_NETWORKS: Readonly<Record<string, string>> = Object.freeze({
  nasbench201: '|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_3x3~1|nor_conv_1x1~2|',
  fbnet: 'k3_e3-k5_e1-k5_e6-k5_e1-k3_e1-k3_e6-k3_e6-skip-k5_e1_g2-k5_e3-k5_e1-skip-skip-k3_e1-k3_e3-k5_e1-k3_e1-k5_e1-k5_e3-k3_e6-k5_e3-k3_e1',
  'fbnet-imagenet': 'k5_e6-k3_e1_g2-k3_e1-k5_e6-k5_e1_g2-k5_e1_g2-k3_e1_g2-k5_e1_g2-k5_e1-k5_e1-k5_e3-k5_e1-k5_e1-k3_e3-k5_e1-skip-k5_e1_g2-k5_e1_g2-k5_e1_g2-k3_e6-k5_e1_g2-k5_e6',
  'proxyless-mobile':
    '5x5_MBConv3-3x3_MBConv6-7x7_MBConv6-zero-7x7_MBConv3-5x5_MBConv6-3x3_MBConv6-7x7_MBConv3-7x7_MBConv3-3x3_MBConv3-zero-7x7_MBConv6-5x5_MBConv6-3x3_MBConv3-5x5_MBConv6-3x3_MBConv3-3x3_MBConv6-3x3_MBConv3-7x7_MBConv3-3x3_MBConv6-7x7_MBConv3',
});

/** The anchor architecture of `space`, or null when the space has none. */
export function anchorArch(space: string): string | null {
  return Object.hasOwn(ANCHOR_NETWORKS, space) ? (ANCHOR_NETWORKS[space] as string) : null;
}

/**
 * The ONNX bytes of `space`'s anchor network at `batch`, or null when the space has none.
 *
 * @example
 * const bytes = anchorModel('nasbench201', 1); // Uint8Array
 */
export function anchorModel(space: string, batch: number): Uint8Array | null {
  const arch = anchorArch(space);
  return arch === null ? null : buildOnnx(lowerNetwork(getSpace(space).expand(arch)), { batch });
}
