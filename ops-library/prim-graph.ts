import { convOut, numel, type Shape } from './shape.ts';

/**
 * Primitive operators: what every op, block and network lowers to. The ONNX builder emits one
 * primitive as one (or a few) ONNX nodes, and the cost model (FLOPs, params, memory) counts them,
 * so the two can never disagree about what a block contains.
 */
export type Activation = 'relu' | 'relu6' | 'hswish' | 'sigmoid' | 'hsigmoid';
export const ACTIVATIONS: readonly Activation[] = Object.freeze(['relu', 'relu6', 'hswish', 'sigmoid', 'hsigmoid']);

export type Prim =
  | {
      kind: 'conv';
      cin: number;
      cout: number;
      kernel: number;
      stride: number;
      padding: number;
      groups: number;
      dilation: number;
      bias: boolean;
    }
  | { kind: 'batchnorm'; channels: number }
  | { kind: 'act'; fn: Activation }
  | { kind: 'maxpool' | 'avgpool'; kernel: number; stride: number; padding: number; countIncludePad: boolean }
  | { kind: 'global_avgpool' }
  | { kind: 'flatten' }
  | { kind: 'linear'; inFeatures: number; outFeatures: number; bias: boolean }
  | { kind: 'add' }
  | { kind: 'mul' }
  | { kind: 'concat' }
  | { kind: 'channel_shuffle'; groups: number }
  | { kind: 'zero' }
  | { kind: 'identity' };

export type PrimKind = Prim['kind'];

export interface PrimNode {
  readonly prim: Prim;
  /** value ids consumed */
  readonly inputs: readonly number[];
  /** value id produced */
  readonly output: number;
}

/** A lowered graph: values are numbered; `shapes[v]` is the per-sample shape of value v. */
export interface PrimGraph {
  readonly inputs: readonly number[];
  readonly output: number;
  readonly nodes: readonly PrimNode[];
  readonly shapes: readonly Shape[];
}

/**
 * Builds a PrimGraph while computing every value's shape: shape inference lives here and only
 * here. Block definitions call these methods in order.
 */
export class Lowering {
  private readonly shapeList: Shape[] = [];
  private readonly nodeList: PrimNode[] = [];
  private readonly inputList: number[] = [];

  input(shape: Shape): number {
    const v = this.value(shape);
    this.inputList.push(v);
    return v;
  }

  shape(v: number): Shape {
    const s = this.shapeList[v];
    if (s === undefined) throw new RangeError(`unknown value id ${v}`);
    return s;
  }

  channels(v: number): number {
    const s = this.shape(v);
    if (s.length !== 3) throw new TypeError(`expected a [C,H,W] feature map, got [${s.join(',')}]`);
    return s[0] as number;
  }

  conv(
    x: number,
    o: { cout: number; kernel: number; stride?: number; padding?: number; groups?: number; dilation?: number; bias?: boolean },
  ): number {
    const [c, h, w] = this.chw(x);
    const stride = o.stride ?? 1;
    const dilation = o.dilation ?? 1;
    const padding = o.padding ?? Math.floor(((o.kernel - 1) * dilation) / 2);
    const groups = o.groups ?? 1;
    if (c % groups !== 0 || o.cout % groups !== 0) {
      throw new RangeError(`'groups' (${groups}) must divide input channels (${c}) and output channels (${o.cout})`);
    }
    const oh = convOut(h, o.kernel, stride, padding, dilation);
    const ow = convOut(w, o.kernel, stride, padding, dilation);
    if (oh <= 0 || ow <= 0) throw new RangeError(`conv ${o.kernel}x${o.kernel} stride ${stride} does not fit ${h}x${w}`);
    const prim: Prim = { kind: 'conv', cin: c, cout: o.cout, kernel: o.kernel, stride, padding, groups, dilation, bias: o.bias ?? false };
    return this.node(prim, [x], [o.cout, oh, ow]);
  }

  bn(x: number): number {
    return this.node({ kind: 'batchnorm', channels: this.channels(x) }, [x], this.shape(x));
  }

  act(x: number, fn: Activation | 'none'): number {
    if (fn === 'none') return x;
    return this.node({ kind: 'act', fn }, [x], this.shape(x));
  }

  pool(x: number, kind: 'maxpool' | 'avgpool', o: { kernel: number; stride: number; padding: number; countIncludePad?: boolean }): number {
    const [c, h, w] = this.chw(x);
    const oh = convOut(h, o.kernel, o.stride, o.padding);
    const ow = convOut(w, o.kernel, o.stride, o.padding);
    if (oh <= 0 || ow <= 0) throw new RangeError(`${kind} ${o.kernel}x${o.kernel} stride ${o.stride} does not fit ${h}x${w}`);
    return this.node({ kind, kernel: o.kernel, stride: o.stride, padding: o.padding, countIncludePad: o.countIncludePad ?? false }, [x], [c, oh, ow]);
  }

  globalAvgPool(x: number): number {
    return this.node({ kind: 'global_avgpool' }, [x], [this.channels(x), 1, 1]);
  }

  flatten(x: number): number {
    return this.node({ kind: 'flatten' }, [x], [numel(this.shape(x))]);
  }

  linear(x: number, o: { out: number; bias?: boolean }): number {
    const s = this.shape(x);
    if (s.length !== 1) throw new TypeError(`linear expects a flat [F] input, got [${s.join(',')}]`);
    return this.node({ kind: 'linear', inFeatures: s[0] as number, outFeatures: o.out, bias: o.bias ?? true }, [x], [o.out]);
  }

  add(xs: readonly number[]): number {
    if (xs.length === 1) return xs[0] as number;
    this.sameShapes(xs, 'add');
    // n-ary sums are emitted as a chain of binary Adds, as frameworks export them
    let acc = xs[0] as number;
    for (const x of xs.slice(1)) acc = this.node({ kind: 'add' }, [acc, x], this.shape(acc));
    return acc;
  }

  /** x * s, where s is [C,1,1] (squeeze-excite gate) or the same shape as x */
  mul(x: number, s: number): number {
    return this.node({ kind: 'mul' }, [x, s], this.shape(x));
  }

  concat(xs: readonly number[]): number {
    const shapes = xs.map((x) => this.chw(x));
    const [, h, w] = shapes[0] as readonly number[];
    if (!shapes.every((s) => s[1] === h && s[2] === w)) {
      throw new RangeError(`concat inputs must share H and W, got ${shapes.map((s) => `[${s.join(',')}]`).join(' ')}`);
    }
    return this.node({ kind: 'concat' }, xs, [shapes.reduce((a, s) => a + (s[0] as number), 0), h as number, w as number]);
  }

  channelShuffle(x: number, groups: number): number {
    const c = this.channels(x);
    if (c % groups !== 0) throw new RangeError(`channel shuffle: groups ${groups} must divide channels ${c}`);
    return this.node({ kind: 'channel_shuffle', groups }, [x], this.shape(x));
  }

  zero(x: number): number {
    return this.node({ kind: 'zero' }, [x], this.shape(x));
  }

  identity(x: number): number {
    return this.node({ kind: 'identity' }, [x], this.shape(x));
  }

  /** nodes lowered so far (what `finish(x).nodes.length` says, without copying the graph) */
  get nodeCount(): number {
    return this.nodeList.length;
  }

  finish(output: number): PrimGraph {
    return Object.freeze({
      inputs: Object.freeze([...this.inputList]),
      output,
      nodes: Object.freeze([...this.nodeList]),
      shapes: Object.freeze([...this.shapeList]),
    });
  }

  private chw(x: number): readonly [number, number, number] {
    const s = this.shape(x);
    if (s.length !== 3) throw new TypeError(`expected a [C,H,W] feature map, got [${s.join(',')}]`);
    return s as unknown as readonly [number, number, number];
  }

  private sameShapes(xs: readonly number[], what: string): void {
    const first = this.shape(xs[0] as number).join(',');
    for (const x of xs) {
      if (this.shape(x).join(',') !== first) {
        throw new RangeError(`${what} inputs must have equal shapes, got [${first}] and [${this.shape(x).join(',')}]`);
      }
    }
  }

  private value(shape: Shape): number {
    this.shapeList.push(Object.freeze([...shape]));
    return this.shapeList.length - 1;
  }

  private node(prim: Prim, inputs: readonly number[], shape: Shape): number {
    const output = this.value(shape);
    this.nodeList.push(Object.freeze({ prim: Object.freeze(prim), inputs: Object.freeze([...inputs]), output }));
    return output;
  }
}
