import type { DType } from './types.ts';

/**
 * Small row-major tensors for constant folding (shape arithmetic: Shape → Gather → Concat,
 * ConstantOfShape, Range, …). Errors are plain messages: the caller names the node.
 */
export interface Small {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: readonly number[];
}

export const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

export const isFloat = (t: DType): boolean => t === 'float32' || t === 'float64' || t === 'float16' || t === 'bfloat16';

/** Rounds a computed element to what its type stores. */
export function store(dtype: DType, x: number): number {
  if (dtype === 'bool') return x ? 1 : 0;
  if (dtype === 'float32') return Math.fround(x);
  if (isFloat(dtype)) return x;
  return Math.trunc(x);
}

/** numpy broadcasting of shapes; throws naming both shapes. */
export function broadcast(...shapes: ReadonlyArray<readonly number[]>): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    let d = 1;
    for (const s of shapes) {
      const x = s[s.length - rank + i] ?? 1;
      if (x === 1) continue;
      if (d !== 1 && d !== x) throw new Error(`shapes ${shapes.map((s) => `[${s.join(',')}]`).join(' and ')} do not broadcast`);
      d = x;
    }
    out.push(d);
  }
  return out;
}

function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = (s[i + 1] as number) * (shape[i + 1] as number);
  return s;
}

/** The flat index into `shape` (broadcast from the right) of output index `idx` of `outShape`. */
function sourceIndex(idx: readonly number[], shape: readonly number[], st: readonly number[]): number {
  let k = 0;
  const off = idx.length - shape.length;
  for (let i = 0; i < shape.length; i++) if ((shape[i] as number) !== 1) k += (idx[i + off] as number) * (st[i] as number);
  return k;
}

function unravel(flat: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let i = shape.length - 1; i >= 0; i--) {
    const d = shape[i] as number;
    idx[i] = flat % d;
    flat = Math.floor(flat / d);
  }
  return idx;
}

/** Elementwise `fn` over broadcast inputs. */
export function elementwise(dtype: DType, inputs: readonly Small[], fn: (...xs: number[]) => number): Small {
  const shape = broadcast(...inputs.map((t) => t.shape));
  const sts = inputs.map((t) => strides(t.shape));
  const n = numel(shape);
  const data = new Array<number>(n);
  for (let f = 0; f < n; f++) {
    const idx = unravel(f, shape);
    data[f] = store(dtype, fn(...inputs.map((t, i) => t.data[sourceIndex(idx, t.shape, sts[i] as number[])] as number)));
  }
  return { dtype, shape, data };
}

export function normAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) throw new Error(`axis ${axis} is out of range for rank ${rank}`);
  return a;
}

export function gather(data: Small, indices: Small, axis: number): Small {
  const a = normAxis(axis, data.shape.length);
  const outer = numel(data.shape.slice(0, a));
  const inner = numel(data.shape.slice(a + 1));
  const dim = data.shape[a] as number;
  const out: number[] = [];
  for (let o = 0; o < outer; o++) {
    for (const raw of indices.data) {
      const i = raw < 0 ? raw + dim : raw;
      if (i < 0 || i >= dim) throw new Error(`index ${raw} is out of range for a dimension of ${dim}`);
      for (let k = 0; k < inner; k++) out.push(data.data[(o * dim + i) * inner + k] as number);
    }
  }
  return { dtype: data.dtype, shape: [...data.shape.slice(0, a), ...indices.shape, ...data.shape.slice(a + 1)], data: out };
}

export function concat(ts: readonly Small[], axis: number): Small {
  const first = ts[0] as Small;
  const a = normAxis(axis, first.shape.length);
  const outer = numel(first.shape.slice(0, a));
  const out: number[] = [];
  for (let o = 0; o < outer; o++) {
    for (const t of ts) {
      const chunk = numel(t.shape.slice(a));
      out.push(...t.data.slice(o * chunk, (o + 1) * chunk));
    }
  }
  const shape = [...first.shape];
  shape[a] = ts.reduce((s, t) => s + (t.shape[a] as number), 0);
  return { dtype: first.dtype, shape, data: out };
}

export function transpose(t: Small, perm: readonly number[]): Small {
  const shape = perm.map((p) => t.shape[p] as number);
  const st = strides(t.shape);
  const n = numel(shape);
  const data = new Array<number>(n);
  for (let f = 0; f < n; f++) {
    const idx = unravel(f, shape);
    let k = 0;
    perm.forEach((p, i) => (k += (idx[i] as number) * (st[p] as number)));
    data[f] = t.data[k] as number;
  }
  return { dtype: t.dtype, shape, data };
}

/** ONNX Slice's per-axis range: the clamped start, the step and the count of elements taken. */
export function sliceRange(dim: number, start: number, end: number, step: number): { start: number; step: number; count: number } {
  if (step === 0) throw new Error(`a slice step of 0`);
  let s = start < 0 ? start + dim : start;
  let e = end < 0 ? end + dim : end;
  if (step > 0) {
    s = Math.min(Math.max(s, 0), dim);
    e = Math.min(Math.max(e, 0), dim);
    return { start: s, step, count: Math.max(0, Math.ceil((e - s) / step)) };
  }
  s = Math.min(Math.max(s, -1), dim - 1);
  e = Math.min(Math.max(e, -1), dim - 1);
  return { start: s, step, count: Math.max(0, Math.ceil((e - s) / step)) };
}

export function slice(t: Small, ranges: ReadonlyArray<{ start: number; step: number; count: number }>): Small {
  const shape = ranges.map((r) => r.count);
  const st = strides(t.shape);
  const n = numel(shape);
  const data = new Array<number>(n);
  for (let f = 0; f < n; f++) {
    const idx = unravel(f, shape);
    let k = 0;
    ranges.forEach((r, i) => (k += (r.start + (idx[i] as number) * r.step) * (st[i] as number)));
    data[f] = t.data[k] as number;
  }
  return { dtype: t.dtype, shape, data };
}
