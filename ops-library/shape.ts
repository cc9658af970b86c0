/**
 * Per-sample tensor shapes (the batch dimension is added by the ONNX builder): `[C, H, W]` for
 * feature maps, `[F]` for flat vectors. Canonical keys print them as `HxWxC` (or `F`), the
 * ProxylessNAS/OFA convention.
 */
export type Shape = readonly number[];
export type Chw = readonly [c: number, h: number, w: number];

/** `[C,H,W]` → `HxWxC`; `[F]` → `F`. */
export function formatShape(shape: Shape): string {
  if (shape.length === 3) return `${shape[1]}x${shape[2]}x${shape[0]}`;
  return shape.join('x');
}

/** Asserts a 3-d `[C,H,W]` shape of positive integers, naming `what` in the error. */
export function assertChw(shape: unknown, what: string): asserts shape is Chw {
  if (
    !Array.isArray(shape) ||
    shape.length !== 3 ||
    !shape.every((d) => Number.isInteger(d) && (d as number) > 0)
  ) {
    throw new TypeError(`'${what}' must be [C, H, W] positive integers, got ${JSON.stringify(shape)}`);
  }
}

export function assertPositiveInt(value: unknown, what: string): asserts value is number {
  if (!Number.isInteger(value) || (value as number) <= 0) {
    throw new RangeError(`'${what}' must be a positive integer, got ${JSON.stringify(value)}`);
  }
}

export function numel(shape: Shape): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Output size of a convolution or pooling window along one axis. */
export function convOut(size: number, kernel: number, stride: number, padding: number, dilation = 1): number {
  return Math.floor((size + 2 * padding - dilation * (kernel - 1) - 1) / stride) + 1;
}
