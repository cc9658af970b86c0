import type { RawAttr } from './decode.ts';
import {
  broadcast, concat, elementwise, gather, isFloat, normAxis, numel, slice, sliceRange, store, transpose, type Small,
} from './tensor.ts';
import type { AttrValue, Attrs, DType } from './types.ts';

/** A node input as shape inference sees it (undefined: an absent optional input). */
export interface InValue {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly constant: boolean;
  readonly data?: readonly number[];
}

export interface OutValue {
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** elements, when the node was folded and the result is small */
  readonly data?: readonly number[];
  /** the one value of every element (ConstantOfShape), kept when `data` is too large to */
  readonly fill?: number;
}

export interface InferContext {
  readonly op: string;
  readonly opset: number;
  readonly attrs: Readonly<Record<string, RawAttr>>;
  readonly inputs: readonly (InValue | undefined)[];
  readonly outputCount: number;
}

export interface Inferred {
  readonly outputs: readonly OutValue[];
  /** the IR's attributes when they differ from the node's (defaults filled, auto_pad resolved) */
  readonly attrs?: Attrs;
}

/** A failure inside one operator's inference; the importer adds the node's name and op. */
export class InferFailure extends Error {}

const fail = (msg: string): never => {
  throw new InferFailure(msg);
};

// ---------- reading inputs and attributes ----------

function input(c: InferContext, i: number, what = `input ${i}`): InValue {
  const v = c.inputs[i];
  if (v === undefined) fail(`its ${what} is missing`);
  return v as InValue;
}

/** The elements of a constant input (shape tensors, axes, pads); `undefined` when the input is absent. */
function constData(c: InferContext, i: number, what: string): readonly number[] | undefined {
  const v = c.inputs[i];
  if (v === undefined) return undefined;
  if (!v.constant) fail(`its ${what} input ('${v.name}') is computed at run time; only a constant ${what} is supported`);
  if (v.data === undefined) fail(`its ${what} input ('${v.name}') is a constant without its data (${numel(v.shape)} elements)`);
  return v.data;
}

const attrNum = (c: InferContext, name: string, dflt: number): number => {
  const a = c.attrs[name];
  return typeof a === 'number' ? a : dflt;
};
const attrInts = (c: InferContext, name: string): number[] | undefined => {
  const a = c.attrs[name];
  return Array.isArray(a) ? (a as number[]) : undefined;
};
const attrStr = (c: InferContext, name: string, dflt: string): string => {
  const a = c.attrs[name];
  return typeof a === 'string' ? a : dflt;
};

/** The node's plain attributes (tensor-valued ones dropped), for the IR. */
export function plainAttrs(attrs: Readonly<Record<string, RawAttr>>): Attrs {
  const out: Record<string, AttrValue> = {};
  for (const [k, v] of Object.entries(attrs)) if (typeof v !== 'object' || Array.isArray(v)) out[k] = v as AttrValue;
  return out;
}

const allData = (c: InferContext): boolean => c.inputs.every((v) => v === undefined || (v.constant && v.data !== undefined));
const small = (v: InValue): Small => ({ dtype: v.dtype, shape: v.shape, data: v.data as readonly number[] });
const out = (dtype: DType, shape: readonly number[], data?: readonly number[]): OutValue => (data === undefined ? { dtype, shape } : { dtype, shape, data });
const fromSmall = (t: Small): OutValue => out(t.dtype, t.shape, t.data);

// ---------- operator families ----------

type Infer = (c: InferContext) => Inferred;

const unaryMath: Record<string, (x: number) => number> = {
  Relu: (x) => Math.max(0, x), Neg: (x) => -x, Abs: Math.abs, Sqrt: Math.sqrt, Exp: Math.exp, Log: Math.log,
  Reciprocal: (x) => 1 / x, Floor: Math.floor, Ceil: Math.ceil, Round: (x) => (Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : Math.round(x)),
  Sign: Math.sign, Not: (x) => (x ? 0 : 1), Identity: (x) => x, Sigmoid: (x) => 1 / (1 + Math.exp(-x)), Tanh: Math.tanh,
  Sin: Math.sin, Cos: Math.cos,
};

/** same shape and type as the first input */
const sameShape: Infer = (c) => {
  const x = input(c, 0);
  const fn = unaryMath[c.op];
  const data = fn && allData(c) && x.data ? x.data.map((v) => store(x.dtype, fn(v))) : undefined;
  const outs = [out(x.dtype, x.shape, data)];
  // Dropout's mask, BatchNormalization's training outputs: never read in inference graphs
  for (let i = 1; i < c.outputCount; i++) outs.push(out(c.op === 'Dropout' ? 'bool' : x.dtype, c.op === 'Dropout' ? x.shape : [x.shape[1] ?? 1]));
  return { outputs: outs };
};

const clip: Infer = (c) => {
  const x = input(c, 0);
  let data: number[] | undefined;
  if (allData(c) && x.data) {
    const lo = c.inputs[1]?.data?.[0] ?? (c.opset < 11 ? attrNum(c, 'min', -Infinity) : -Infinity);
    const hi = c.inputs[2]?.data?.[0] ?? (c.opset < 11 ? attrNum(c, 'max', Infinity) : Infinity);
    data = x.data.map((v) => Math.min(hi, Math.max(lo, v)));
  }
  return { outputs: [out(x.dtype, x.shape, data)] };
};

const binaryMath: Record<string, (a: number, b: number) => number> = {
  Add: (a, b) => a + b, Sub: (a, b) => a - b, Mul: (a, b) => a * b, Pow: (a, b) => a ** b,
  Max: Math.max, Min: Math.min, Equal: (a, b) => +(a === b), Less: (a, b) => +(a < b), LessOrEqual: (a, b) => +(a <= b),
  Greater: (a, b) => +(a > b), GreaterOrEqual: (a, b) => +(a >= b), And: (a, b) => +(a && b), Or: (a, b) => +(a || b),
  Xor: (a, b) => +(!a !== !b), Mod: (a, b) => a - b * Math.floor(a / b), PRelu: (a, b) => (a < 0 ? a * b : a),
};
const BOOL_RESULT = new Set(['Equal', 'Less', 'LessOrEqual', 'Greater', 'GreaterOrEqual', 'And', 'Or', 'Xor', 'Not']);

/** Add, Mul, …, and the variadic Sum/Max/Min/Mean: numpy broadcasting */
const broadcasting: Infer = (c) => {
  const xs = c.inputs.filter((v): v is InValue => v !== undefined);
  if (xs.length === 0) fail('it has no inputs');
  let shape: number[] = [];
  try {
    shape = broadcast(...xs.map((x) => x.shape));
  } catch (e) {
    fail((e as Error).message);
  }
  const dtype: DType = BOOL_RESULT.has(c.op) ? 'bool' : (xs[0] as InValue).dtype;
  let data: readonly number[] | undefined;
  if (allData(c) && numel(shape) <= 65536) {
    const first = xs[0] as InValue;
    const intDiv = !isFloat(first.dtype);
    const fn =
      c.op === 'Div' ? (a: number, b: number) => (intDiv ? Math.trunc(a / b) : a / b)
      : c.op === 'Sum' ? (...v: number[]) => v.reduce((p, q) => p + q, 0)
      : c.op === 'Mean' ? (...v: number[]) => v.reduce((p, q) => p + q, 0) / v.length
      : c.op === 'Max' || c.op === 'Min' ? (...v: number[]) => (c.op === 'Max' ? Math.max(...v) : Math.min(...v))
      : binaryMath[c.op];
    if (fn) data = elementwise(dtype, xs.map(small), fn).data;
  }
  return { outputs: [out(dtype, shape, data)] };
};

const where: Infer = (c) => {
  const [cond, a, b] = [input(c, 0, 'condition'), input(c, 1, 'X'), input(c, 2, 'Y')];
  let shape: number[] = [];
  try {
    shape = broadcast(cond.shape, a.shape, b.shape);
  } catch (e) {
    fail((e as Error).message);
  }
  const data = allData(c) ? elementwise(a.dtype, [small(cond), small(a), small(b)], (k, x, y) => (k ? x : y)).data : undefined;
  return { outputs: [out(a.dtype, shape, data)] };
};

const CAST_TO: Readonly<Record<number, DType>> = {
  1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 9: 'bool', 10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64', 16: 'bfloat16',
};
const cast: Infer = (c) => {
  const x = input(c, 0);
  const to = c.op === 'CastLike' ? input(c, 1, 'target_type').dtype : CAST_TO[attrNum(c, 'to', 0)];
  if (to === undefined) fail(`'to' = ${attrNum(c, 'to', 0)} is not a supported type`);
  const dtype = to as DType;
  return { outputs: [out(dtype, x.shape, x.data && x.constant ? x.data.map((v) => store(dtype, v)) : undefined)] };
};

/** Conv, ConvTranspose and the pools: spatial output sizes with explicit pads (auto_pad resolved) */
function window(c: InferContext, x: InValue, kernel: readonly number[], transposed = false) {
  const n = x.shape.length - 2;
  if (n < 1) fail(`its input must be [N, C, spatial…], got [${x.shape.join(', ')}]`);
  if (kernel.length !== n) fail(`kernel_shape [${kernel.join(', ')}] does not match the ${n} spatial dimensions of [${x.shape.join(', ')}]`);
  const strides = attrInts(c, 'strides') ?? new Array<number>(n).fill(1);
  const dilations = attrInts(c, 'dilations') ?? new Array<number>(n).fill(1);
  let pads = attrInts(c, 'pads') ?? new Array<number>(2 * n).fill(0);
  const autoPad = attrStr(c, 'auto_pad', 'NOTSET');
  const spatial = x.shape.slice(2);
  if (!transposed && (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER')) {
    pads = new Array<number>(2 * n).fill(0);
    spatial.forEach((d, i) => {
      const s = strides[i] as number;
      const want = Math.ceil(d / s);
      const total = Math.max(0, (want - 1) * s + ((kernel[i] as number) - 1) * (dilations[i] as number) + 1 - d);
      const small = Math.floor(total / 2);
      pads[i] = autoPad === 'SAME_UPPER' ? small : total - small;
      pads[i + n] = total - (pads[i] as number);
    });
  } else if (autoPad === 'VALID') {
    pads = new Array<number>(2 * n).fill(0);
  }
  if (strides.length !== n || dilations.length !== n || pads.length !== 2 * n) {
    fail(`strides [${strides.join(', ')}], dilations [${dilations.join(', ')}] or pads [${pads.join(', ')}] do not fit ${n} spatial dimensions`);
  }
  return { n, spatial, strides, dilations, pads };
}

const conv: Infer = (c) => {
  const x = input(c, 0, 'input X');
  const w = input(c, 1, 'weight W');
  const group = attrNum(c, 'group', 1);
  const kernel = attrInts(c, 'kernel_shape') ?? w.shape.slice(2);
  const { spatial, strides, dilations, pads, n } = window(c, x, kernel);
  if (w.shape.length !== x.shape.length) fail(`weight [${w.shape.join(', ')}] and input [${x.shape.join(', ')}] differ in rank`);
  if ((w.shape[1] as number) * group !== x.shape[1]) fail(`input has ${x.shape[1]} channels, weight [${w.shape.join(', ')}] with group ${group} expects ${(w.shape[1] as number) * group}`);
  const dims = spatial.map((d, i) => Math.floor((d + (pads[i] as number) + (pads[i + n] as number) - ((kernel[i] as number) - 1) * (dilations[i] as number) - 1) / (strides[i] as number)) + 1);
  if (dims.some((d) => d < 1)) fail(`the ${kernel.join('x')} window does not fit the input [${x.shape.join(', ')}]`);
  return {
    outputs: [out(x.dtype, [x.shape[0] as number, w.shape[0] as number, ...dims])],
    attrs: { ...plainAttrs(c.attrs), kernel_shape: kernel, strides, pads, dilations, group, auto_pad: 'NOTSET' },
  };
};

const convTranspose: Infer = (c) => {
  const x = input(c, 0, 'input X');
  const w = input(c, 1, 'weight W');
  const group = attrNum(c, 'group', 1);
  const kernel = attrInts(c, 'kernel_shape') ?? w.shape.slice(2);
  const { n, spatial, strides, dilations } = window(c, x, kernel, true);
  const outPad = attrInts(c, 'output_padding') ?? new Array<number>(n).fill(0);
  const given = attrInts(c, 'output_shape');
  let pads = attrInts(c, 'pads') ?? new Array<number>(2 * n).fill(0);
  const autoPad = attrStr(c, 'auto_pad', 'NOTSET');
  const full = spatial.map((d, i) => (strides[i] as number) * (d - 1) + (outPad[i] as number) + ((kernel[i] as number) - 1) * (dilations[i] as number) + 1);
  let dims: number[];
  if (given) {
    dims = given.slice(-n);
    pads = new Array<number>(2 * n).fill(0);
    dims.forEach((d, i) => {
      const total = (full[i] as number) - d;
      const lo = autoPad === 'SAME_UPPER' ? Math.floor(total / 2) : total - Math.floor(total / 2);
      pads[i] = lo;
      pads[i + n] = total - lo;
    });
  } else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    dims = spatial.map((d, i) => d * (strides[i] as number));
    pads = new Array<number>(2 * n).fill(0);
    dims.forEach((d, i) => {
      const total = (full[i] as number) - d;
      const lo = autoPad === 'SAME_UPPER' ? Math.floor(total / 2) : total - Math.floor(total / 2);
      pads[i] = lo;
      pads[i + n] = total - lo;
    });
  } else {
    dims = full.map((d, i) => d - (pads[i] as number) - (pads[i + n] as number));
  }
  return {
    outputs: [out(x.dtype, [x.shape[0] as number, (w.shape[1] as number) * group, ...dims])],
    attrs: { ...plainAttrs(c.attrs), kernel_shape: kernel, strides, pads, dilations, group, output_padding: outPad, auto_pad: 'NOTSET' },
  };
};

const pool: Infer = (c) => {
  const x = input(c, 0);
  const kernel = attrInts(c, 'kernel_shape');
  if (!kernel) fail(`it has no kernel_shape`);
  const k = kernel as number[];
  const { n, spatial, strides, dilations, pads } = window(c, x, k);
  const ceil = attrNum(c, 'ceil_mode', 0) === 1;
  const dims = spatial.map((d, i) => {
    const padded = d + (pads[i] as number) + (pads[i + n] as number) - ((k[i] as number) - 1) * (dilations[i] as number) - 1;
    let o = (ceil ? Math.ceil(padded / (strides[i] as number)) : Math.floor(padded / (strides[i] as number))) + 1;
    // a last window that would start inside the end padding is dropped (PyTorch and ORT agree)
    if (ceil && (o - 1) * (strides[i] as number) >= d + (pads[i] as number)) o--;
    return o;
  });
  if (dims.some((d) => d < 1)) fail(`the ${k.join('x')} window does not fit the input [${x.shape.join(', ')}]`);
  const shape = [x.shape[0] as number, x.shape[1] as number, ...dims];
  const attrs: Record<string, AttrValue> = { ...plainAttrs(c.attrs), kernel_shape: k, strides, pads, auto_pad: 'NOTSET', ceil_mode: ceil ? 1 : 0 };
  if (c.op === 'MaxPool') attrs.dilations = dilations;
  if (c.op === 'AveragePool') attrs.count_include_pad = attrNum(c, 'count_include_pad', 0);
  const outs = [out(x.dtype, shape)];
  if (c.outputCount > 1) outs.push(out('int64', shape));
  return { outputs: outs, attrs };
};

const globalPool: Infer = (c) => {
  const x = input(c, 0);
  if (x.shape.length < 3) fail(`its input must be [N, C, spatial…], got [${x.shape.join(', ')}]`);
  return { outputs: [out(x.dtype, [...x.shape.slice(0, 2), ...x.shape.slice(2).map(() => 1)])] };
};

const gemm: Infer = (c) => {
  const a = input(c, 0, 'A');
  const b = input(c, 1, 'B');
  if (a.shape.length !== 2 || b.shape.length !== 2) fail(`A [${a.shape.join(', ')}] and B [${b.shape.join(', ')}] must be matrices`);
  const [m, ka] = attrNum(c, 'transA', 0) ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
  const [kb, nn] = attrNum(c, 'transB', 0) ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
  if (ka !== kb) fail(`A [${a.shape.join(', ')}] and B [${b.shape.join(', ')}] (transA ${attrNum(c, 'transA', 0)}, transB ${attrNum(c, 'transB', 0)}) do not multiply`);
  return { outputs: [out(a.dtype, [m as number, nn as number])] };
};

const matmul: Infer = (c) => {
  const a = input(c, 0, 'A');
  const b = input(c, 1, 'B');
  const as = a.shape.length === 1 ? [1, a.shape[0] as number] : a.shape;
  const bs = b.shape.length === 1 ? [b.shape[0] as number, 1] : b.shape;
  if (as.length < 1 || bs.length < 1) fail('its inputs must not be scalars');
  if (as[as.length - 1] !== bs[bs.length - 2]) fail(`A [${a.shape.join(', ')}] and B [${b.shape.join(', ')}] do not multiply`);
  let batch: number[] = [];
  try {
    batch = broadcast(as.slice(0, -2), bs.slice(0, -2));
  } catch (e) {
    fail((e as Error).message);
  }
  const shape = [...batch, ...(a.shape.length === 1 ? [] : [as[as.length - 2] as number]), ...(b.shape.length === 1 ? [] : [bs[bs.length - 1] as number])];
  return { outputs: [out(a.dtype, shape)] };
};

const reshape: Infer = (c) => {
  const x = input(c, 0, 'data');
  const target = constData(c, 1, 'shape') ?? fail(`its shape input is missing`);
  const allowZero = attrNum(c, 'allowzero', 0) === 1;
  const shape = (target as number[]).map((d, i) => (d === 0 && !allowZero ? (x.shape[i] ?? fail(`shape [${(target as number[]).join(', ')}] copies dimension ${i} of the rank-${x.shape.length} input`)) : d));
  const minus = shape.filter((d) => d === -1).length;
  if (minus > 1) fail(`shape [${(target as number[]).join(', ')}] has more than one -1`);
  const known = shape.filter((d) => d !== -1).reduce((p, q) => p * q, 1);
  const total = numel(x.shape);
  if (minus === 1) {
    if (known === 0 || total % known !== 0) fail(`cannot reshape [${x.shape.join(', ')}] to [${(target as number[]).join(', ')}]`);
    shape[shape.indexOf(-1)] = total / known;
  } else if (known !== total) fail(`cannot reshape [${x.shape.join(', ')}] (${total} elements) to [${shape.join(', ')}]`);
  return { outputs: [out(x.dtype, shape, x.constant ? x.data : undefined)] };
};

const flatten: Infer = (c) => {
  const x = input(c, 0);
  const r = x.shape.length;
  let axis = attrNum(c, 'axis', 1);
  if (axis < 0) axis += r;
  if (axis < 0 || axis > r) fail(`axis ${attrNum(c, 'axis', 1)} is out of range for rank ${r}`);
  return { outputs: [out(x.dtype, [numel(x.shape.slice(0, axis)), numel(x.shape.slice(axis))], x.constant ? x.data : undefined)] };
};

/** Squeeze/Unsqueeze/Reduce* axes: an attribute before the opset that made them an input */
function axesOf(c: InferContext, inputOpset: number, index: number): number[] | undefined {
  if (c.opset >= inputOpset) return constData(c, index, 'axes') as number[] | undefined;
  return attrInts(c, 'axes');
}

const squeeze: Infer = (c) => {
  const x = input(c, 0);
  const r = x.shape.length;
  const axes = axesOf(c, 13, 1)?.map((a) => normAxis(a, r));
  const shape = x.shape.filter((d, i) => (axes ? !axes.includes(i) : d !== 1));
  if (axes?.some((a) => x.shape[a] !== 1)) fail(`axes [${axes.join(', ')}] of [${x.shape.join(', ')}] are not all 1`);
  return { outputs: [out(x.dtype, shape, x.constant ? x.data : undefined)] };
};

const unsqueeze: Infer = (c) => {
  const x = input(c, 0);
  const axes = axesOf(c, 13, 1);
  if (!axes) fail(`it has no axes`);
  const r = x.shape.length + (axes as number[]).length;
  const norm = (axes as number[]).map((a) => normAxis(a, r));
  const shape: number[] = [];
  let k = 0;
  for (let i = 0; i < r; i++) shape.push(norm.includes(i) ? 1 : (x.shape[k++] as number));
  return { outputs: [out(x.dtype, shape, x.constant ? x.data : undefined)] };
};

const transposeOp: Infer = (c) => {
  const x = input(c, 0);
  const perm = attrInts(c, 'perm') ?? x.shape.map((_, i) => x.shape.length - 1 - i);
  if (perm.length !== x.shape.length || [...perm].sort((p, q) => p - q).some((p, i) => p !== i)) fail(`perm [${perm.join(', ')}] does not permute rank ${x.shape.length}`);
  const data = x.constant && x.data ? transpose(small(x), perm).data : undefined;
  return { outputs: [out(x.dtype, perm.map((p) => x.shape[p] as number), data)], attrs: { ...plainAttrs(c.attrs), perm } };
};

const concatOp: Infer = (c) => {
  const xs = c.inputs.filter((v): v is InValue => v !== undefined);
  const first = xs[0] ?? fail('it has no inputs');
  const axis = normAxis(attrNum(c, 'axis', 0), (first as InValue).shape.length);
  const f = first as InValue;
  for (const x of xs) {
    if (x.shape.length !== f.shape.length || x.shape.some((d, i) => i !== axis && d !== f.shape[i])) {
      fail(`inputs [${xs.map((v) => v.shape.join(', ')).join('] [')}] differ outside axis ${axis}`);
    }
  }
  const shape = [...f.shape];
  shape[axis] = xs.reduce((s, x) => s + (x.shape[axis] as number), 0);
  const data = allData(c) ? concat(xs.map(small), axis).data : undefined;
  return { outputs: [out(f.dtype, shape, data)], attrs: { ...plainAttrs(c.attrs), axis } };
};

const split: Infer = (c) => {
  const x = input(c, 0);
  const axis = normAxis(attrNum(c, 'axis', 0), x.shape.length);
  const dim = x.shape[axis] as number;
  let sizes = c.opset >= 13 ? (constData(c, 1, 'split') as number[] | undefined) : attrInts(c, 'split');
  if (!sizes) {
    const parts = c.opset >= 18 && typeof c.attrs.num_outputs === 'number' ? (c.attrs.num_outputs as number) : c.outputCount;
    const each = Math.ceil(dim / parts);
    sizes = Array.from({ length: parts }, (_, i) => Math.max(0, Math.min(each, dim - i * each)));
  }
  if (sizes.reduce((p, q) => p + q, 0) !== dim) fail(`split sizes [${sizes.join(', ')}] do not add up to dimension ${axis} (${dim}) of [${x.shape.join(', ')}]`);
  return {
    outputs: sizes.map((s) => {
      const shape = [...x.shape];
      shape[axis] = s;
      return out(x.dtype, shape);
    }),
    attrs: { ...plainAttrs(c.attrs), axis },
  };
};

const sliceOp: Infer = (c) => {
  const x = input(c, 0);
  const r = x.shape.length;
  const [starts, ends, axes, steps] =
    c.opset >= 10
      ? [constData(c, 1, 'starts'), constData(c, 2, 'ends'), constData(c, 3, 'axes'), constData(c, 4, 'steps')]
      : [attrInts(c, 'starts'), attrInts(c, 'ends'), attrInts(c, 'axes'), undefined];
  if (!starts || !ends || starts.length !== ends.length) fail(`starts and ends must be given with equal lengths`);
  const ranges = x.shape.map((d) => ({ start: 0, step: 1, count: d }));
  (starts as number[]).forEach((s, i) => {
    const a = normAxis(axes?.[i] ?? i, r);
    try {
      ranges[a] = sliceRange(x.shape[a] as number, s, (ends as number[])[i] as number, steps?.[i] ?? 1);
    } catch (e) {
      fail((e as Error).message);
    }
  });
  const data = x.constant && x.data ? slice(small(x), ranges).data : undefined;
  return { outputs: [out(x.dtype, ranges.map((g) => g.count), data)] };
};

const gatherOp: Infer = (c) => {
  const x = input(c, 0, 'data');
  const idx = input(c, 1, 'indices');
  const axis = normAxis(attrNum(c, 'axis', 0), x.shape.length);
  let data: readonly number[] | undefined;
  if (allData(c)) {
    try {
      data = gather(small(x), small(idx), axis).data;
    } catch (e) {
      fail((e as Error).message);
    }
  }
  return { outputs: [out(x.dtype, [...x.shape.slice(0, axis), ...idx.shape, ...x.shape.slice(axis + 1)], data)] };
};

const shapeOp: Infer = (c) => {
  const x = input(c, 0);
  const r = x.shape.length;
  const clampAxis = (a: number) => Math.min(Math.max(a < 0 ? a + r : a, 0), r);
  const start = clampAxis(attrNum(c, 'start', 0));
  const end = clampAxis(attrNum(c, 'end', r));
  const dims = x.shape.slice(start, Math.max(start, end));
  return { outputs: [out('int64', [dims.length], dims)] };
};

const sizeOp: Infer = (c) => ({ outputs: [out('int64', [], [numel(input(c, 0).shape)])] });

const constantOfShape: Infer = (c) => {
  const shape = constData(c, 0, 'shape') ?? fail('its shape input is missing');
  const v = c.attrs.value as { dtype: DType; data?: readonly number[] } | undefined;
  const dtype = v?.dtype ?? 'float32';
  const fill = v?.data?.[0] ?? 0;
  const n = numel(shape as number[]);
  return { outputs: [{ ...out(dtype, shape as number[], n <= 65536 ? new Array<number>(n).fill(fill) : undefined), fill }] };
};

const constant: Infer = (c) => {
  const a = c.attrs;
  if (a.value && typeof a.value === 'object' && !Array.isArray(a.value)) {
    const t = a.value as unknown as { dtype: DType; shape: readonly number[]; data?: readonly number[] };
    return { outputs: [out(t.dtype, t.shape, t.data)] };
  }
  if (typeof a.value_float === 'number') return { outputs: [out('float32', [], [a.value_float])] };
  if (typeof a.value_int === 'number') return { outputs: [out('int64', [], [a.value_int])] };
  if (Array.isArray(a.value_floats)) return { outputs: [out('float32', [a.value_floats.length], a.value_floats as number[])] };
  if (Array.isArray(a.value_ints)) return { outputs: [out('int64', [a.value_ints.length], a.value_ints as number[])] };
  return fail('it holds no value this importer reads (value, value_float(s), value_int(s))');
};

const expand: Infer = (c) => {
  const x = input(c, 0);
  const target = constData(c, 1, 'shape') ?? fail('its shape input is missing');
  let shape: number[] = [];
  try {
    shape = broadcast(x.shape, target as number[]);
  } catch (e) {
    fail((e as Error).message);
  }
  const data = x.constant && x.data && numel(shape) <= 65536 ? elementwise(x.dtype, [small(x), { dtype: x.dtype, shape, data: new Array<number>(numel(shape)).fill(0) }], (v) => v).data : undefined;
  return { outputs: [out(x.dtype, shape, data)] };
};

const tile: Infer = (c) => {
  const x = input(c, 0);
  const reps = constData(c, 1, 'repeats') ?? fail('its repeats input is missing');
  if ((reps as number[]).length !== x.shape.length) fail(`repeats [${(reps as number[]).join(', ')}] do not match rank ${x.shape.length}`);
  return { outputs: [out(x.dtype, x.shape.map((d, i) => d * ((reps as number[])[i] as number)))] };
};

const range: Infer = (c) => {
  const [s, l, d] = [0, 1, 2].map((i) => (constData(c, i, ['start', 'limit', 'delta'][i] as string) as number[])[0] as number) as [number, number, number];
  const n = Math.max(0, Math.ceil((l - s) / d));
  const dtype = input(c, 0).dtype;
  return { outputs: [out(dtype, [n], n <= 65536 ? Array.from({ length: n }, (_, i) => store(dtype, s + i * d)) : undefined)] };
};

const pad: Infer = (c) => {
  const x = input(c, 0);
  const r = x.shape.length;
  const pads = (c.opset >= 11 ? constData(c, 1, 'pads') : attrInts(c, 'pads')) ?? fail('it has no pads');
  const axes = c.opset >= 18 ? constData(c, 3, 'axes')?.map((a) => normAxis(a, r)) : undefined;
  const ax = axes ?? x.shape.map((_, i) => i);
  if ((pads as number[]).length !== 2 * ax.length) fail(`pads [${(pads as number[]).join(', ')}] do not fit ${ax.length} axes`);
  const shape = [...x.shape];
  ax.forEach((a, i) => (shape[a] = (shape[a] as number) + ((pads as number[])[i] as number) + ((pads as number[])[i + ax.length] as number)));
  return { outputs: [out(x.dtype, shape)] };
};

const resize: Infer = (c) => {
  const x = input(c, 0);
  const r = x.shape.length;
  let scales: readonly number[] | undefined;
  let sizes: readonly number[] | undefined;
  if (c.op === 'Upsample' || c.opset < 11) scales = constData(c, 1, 'scales') ?? attrInts(c, 'scales');
  else {
    scales = constData(c, 2, 'scales');
    sizes = constData(c, 3, 'sizes');
    if (scales?.length === 0) scales = undefined;
    if (sizes?.length === 0) sizes = undefined;
  }
  const axes = attrInts(c, 'axes')?.map((a) => normAxis(a, r)) ?? x.shape.map((_, i) => i);
  const shape = [...x.shape];
  if (sizes) axes.forEach((a, i) => (shape[a] = sizes?.[i] as number));
  else if (scales) axes.forEach((a, i) => (shape[a] = Math.floor((x.shape[a] as number) * (scales?.[i] as number))));
  else fail('it has neither scales nor sizes');
  return { outputs: [out(x.dtype, shape)] };
};

const reduce: Infer = (c) => {
  const x = input(c, 0);
  const r = x.shape.length;
  // ReduceSum took its axes as an input at opset 13, the other reductions at 18
  const axes = axesOf(c, c.op === 'ReduceSum' ? 13 : 18, 1)?.map((a) => normAxis(a, r));
  const keep = attrNum(c, 'keepdims', 1) === 1;
  const noop = attrNum(c, 'noop_with_empty_axes', 0) === 1;
  if ((!axes || axes.length === 0) && noop) return { outputs: [out(x.dtype, x.shape)] };
  const all = !axes || axes.length === 0;
  const shape = x.shape.flatMap((d, i) => (all || axes?.includes(i) ? (keep ? [1] : []) : [d]));
  let data: number[] | undefined;
  if (x.constant && x.data && c.op === 'ReduceProd' && all) data = [x.data.reduce((p, q) => p * q, 1)];
  return { outputs: [out(x.dtype, shape, data)] };
};

const argReduce: Infer = (c) => {
  const x = input(c, 0);
  const axis = normAxis(attrNum(c, 'axis', 0), x.shape.length);
  const keep = attrNum(c, 'keepdims', 1) === 1;
  return { outputs: [out('int64', x.shape.flatMap((d, i) => (i === axis ? (keep ? [1] : []) : [d])))] };
};

const topK: Infer = (c) => {
  const x = input(c, 0);
  const k = (constData(c, 1, 'K') as number[])[0] as number;
  const axis = normAxis(attrNum(c, 'axis', -1), x.shape.length);
  const shape = x.shape.map((d, i) => (i === axis ? k : d));
  return { outputs: [out(x.dtype, shape), out('int64', shape)] };
};

const layerNorm: Infer = (c) => {
  const x = input(c, 0);
  const axis = normAxis(attrNum(c, 'axis', -1), x.shape.length);
  const stat = x.shape.map((d, i) => (i < axis ? d : 1));
  const outs = [out(x.dtype, x.shape)];
  for (let i = 1; i < c.outputCount; i++) outs.push(out('float32', stat));
  return { outputs: outs };
};

const depthSpace: Infer = (c) => {
  const x = input(c, 0);
  const b = attrNum(c, 'blocksize', 0);
  if (x.shape.length !== 4 || b < 1) fail(`needs a 4-d input and a blocksize, got [${x.shape.join(', ')}] and ${b}`);
  const [n, ch, h, w] = x.shape as [number, number, number, number];
  const shape = c.op === 'DepthToSpace' ? [n, ch / (b * b), h * b, w * b] : [n, ch * b * b, h / b, w / b];
  if (shape.some((d) => !Number.isInteger(d))) fail(`blocksize ${b} does not divide [${x.shape.join(', ')}]`);
  return { outputs: [out(x.dtype, shape)] };
};

const SAME_SHAPE = [
  'Relu', 'LeakyRelu', 'Elu', 'Selu', 'Celu', 'Sigmoid', 'HardSigmoid', 'HardSwish', 'Tanh', 'Softplus', 'Softsign', 'Erf', 'Gelu', 'Mish',
  'ThresholdedRelu', 'Shrink', 'Exp', 'Log', 'Sqrt', 'Reciprocal', 'Neg', 'Abs', 'Floor', 'Ceil', 'Round', 'Sign', 'Sin', 'Cos', 'Not',
  'Identity', 'Dropout', 'Softmax', 'LogSoftmax', 'Hardmax', 'LRN', 'BatchNormalization', 'InstanceNormalization', 'GroupNormalization',
  'MeanVarianceNormalization', 'CumSum',
];
const BROADCASTING = ['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Mod', 'Max', 'Min', 'Sum', 'Mean', 'Equal', 'Less', 'LessOrEqual', 'Greater', 'GreaterOrEqual', 'And', 'Or', 'Xor', 'PRelu'];

/** Shape inference (and folding) of every default-domain operator the importer supports. */
export const INFER: Readonly<Record<string, Infer>> = Object.freeze({
  ...Object.fromEntries(SAME_SHAPE.map((op) => [op, sameShape])),
  ...Object.fromEntries(BROADCASTING.map((op) => [op, broadcasting])),
  Clip: clip, Where: where, Cast: cast, CastLike: cast,
  Conv: conv, ConvTranspose: convTranspose,
  MaxPool: pool, AveragePool: pool, LpPool: pool,
  GlobalAveragePool: globalPool, GlobalMaxPool: globalPool, GlobalLpPool: globalPool,
  Gemm: gemm, MatMul: matmul,
  Reshape: reshape, Flatten: flatten, Squeeze: squeeze, Unsqueeze: unsqueeze, Transpose: transposeOp,
  Concat: concatOp, Split: split, Slice: sliceOp, Gather: gatherOp, Expand: expand, Tile: tile,
  Shape: shapeOp, Size: sizeOp, ConstantOfShape: constantOfShape, Constant: constant, Range: range,
  Pad: pad, Resize: resize, Upsample: resize,
  ReduceMean: reduce, ReduceSum: reduce, ReduceMax: reduce, ReduceMin: reduce, ReduceProd: reduce, ReduceL1: reduce, ReduceL2: reduce,
  ReduceLogSumExp: reduce, ReduceSumSquare: reduce,
  ArgMax: argReduce, ArgMin: argReduce, TopK: topK,
  LayerNormalization: layerNorm, DepthToSpace: depthSpace, SpaceToDepth: depthSpace,
});

export const SUPPORTED_OPERATORS: readonly string[] = Object.freeze(Object.keys(INFER).sort());
