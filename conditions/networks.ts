import { networkOnnx, SPACES } from '../ops-library/index.ts';

/**
 * The calibration workload, measured in every interleaved round so each measurement carries its
 * group's speed and passes can be normalised. It is a small real network (FBNet CIFAR, every layer
 * k3_e1, ~0.8 ms on one core) rather than a single conv: a lone conv lives in L2 and did not follow
 * the machine's speed changes that networks see (docs/benchmarks.md, reproducibility).
 */
export const CALIBRATION_NETWORK = Object.freeze({ space: 'fbnet', arch: Array(22).fill('k3_e1').join('-') });
export const CALIBRATION_KEY = `network:${CALIBRATION_NETWORK.space}:${CALIBRATION_NETWORK.arch}`;

/** The calibration network's ONNX bytes (batch 1: the calibration figure is per device, not per batch). */
export function calibrationModel(): Uint8Array {
  return networkOnnx(CALIBRATION_NETWORK.space, CALIBRATION_NETWORK.arch, { batch: 1 });
}

/**
 * One fixed network per search space (declared with the space: SpaceDefinition.anchor), measured
 * in every interleaved round of a group of that space's networks, beside the calibration workload.
 * Its median goes with each of the group's network measurements (`anchorMs`), and the predictor
 * normalises by it: a network of the space follows its own space's anchor when the machine's
 * speed moves far more closely than it follows the calibration network (FBNet k3_e1 ×22), whose
 * depthwise convolutions are memory-bound (docs/benchmarks.md, anchor normalisation).
 */
export const ANCHOR_NETWORKS: Readonly<Record<string, string>> = Object.freeze(
  Object.fromEntries(Object.values(SPACES).flatMap((space) => (space.anchor === null ? [] : [[space.name, space.anchor]]))),
);

/** The anchor architecture of `space`, or null when the space has none (or is unknown). */
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
  return arch === null ? null : networkOnnx(space, arch, { batch });
}
