/** True for a finite number >= 0: every latency, variance and count in a LUT is one. */
export function isNonNegative(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}
