import { opDef, validateSpec } from './ops/registry.ts';
import type { OpSpec } from './ops/types.ts';
import { Lowering, type PrimGraph } from './prim-graph.ts';
import { formatShape, type Chw, type Shape } from './shape.ts';

/** One layer of a network: a spec with its concrete input shape and its canonical key. */
export interface Layer {
  /** position name inside the network, e.g. 'stem', 'layer7', 'cell3' */
  readonly name: string;
  readonly spec: OpSpec;
}

/** A whole network: a chain of layers, each consuming the previous layer's output. */
export interface Network {
  readonly space: string;
  readonly arch: string;
  readonly input: Chw;
  readonly layers: readonly Layer[];
}

/** Lowers one spec onto primitives (validating it first). */
export function lowerSpec(spec: OpSpec): PrimGraph {
  validateSpec(spec);
  const def = opDef(spec.op);
  const L = new Lowering();
  const xs = def.inputs(spec).map((s) => L.input(s));
  return L.finish(def.lower(spec, L, xs));
}

/** Lowers a network: every layer in order, each fed the previous output. */
export function lowerNetwork(net: Network): PrimGraph {
  const L = new Lowering();
  let x = L.input(net.input);
  for (const layer of net.layers) {
    validateSpec(layer.spec);
    const def = opDef(layer.spec.op);
    const want = def.inputs(layer.spec);
    if (want.length !== 1 || want[0]?.join(',') !== L.shape(x).join(',')) {
      throw new RangeError(
        `layer '${layer.name}' (${layer.spec.op}) expects input [${want.map((s) => s.join(',')).join('] [')}], the previous layer gives [${L.shape(x).join(',')}]`,
      );
    }
    x = def.lower(layer.spec, L, [x]);
  }
  return L.finish(x);
}

/** Per-sample output shape of a spec. */
export function outputShape(spec: OpSpec): Shape {
  const g = lowerSpec(spec);
  return g.shapes[g.output] as Shape;
}

/**
 * The canonical key of a spec: `<prefix>-input:HxWxC-output:HxWxC[-param:value…]`, the
 * ProxylessNAS/OFA LUT format for MBConv layers, e.g.
 * `expanded_conv-input:112x112x16-output:56x56x24-expand:3-kernel:3-stride:2-idskip:0`.
 *
 * @example
 * specKey({ op: 'logits', input: [1280, 7, 7], classes: 1000 }) // 'Logits-input:7x7x1280-output:1000'
 */
export function specKey(spec: OpSpec): string {
  const def = opDef(spec.op);
  const out = outputShape(spec);
  const params = def.keyParams(spec).map(([k, v]) => `-${k}:${v}`).join('');
  return `${def.keyPrefix(spec)}-input:${formatShape(spec.input)}-output:${formatShape(out)}${params}`;
}
