import { opDef, validateSpec } from '../../ops/registry.ts';
import type { Network } from '../../graph.ts';
import { Lowering, type PrimGraph, type PrimNode } from '../../prim-graph.ts';
import type { Shape } from '../../shape.ts';
import type { OpSpec } from '../../ops/types.ts';
import type { AttrValue, IrGraph, IrNode, IrValue } from './types.ts';

const f32 = Math.fround;
/** the attributes of a node that has none (frozen: shared) */
const NO_ATTRS: Record<string, AttrValue> = Object.freeze({});

/**
 * The IR of a lowered graph, without going through ONNX bytes: the same operators, attributes
 * and shapes `importOnnx(buildOnnx(graph, { batch }))` gives (the builder's emission, node for
 * node; tests check the two agree), in a fraction of the time and with no weights made. Node
 * names are `<layer>/<Op>_<n>`, so kernels say which layer they came from.
 */
export function importPrimGraph(graph: PrimGraph, o: { batch?: number; layerOf?: (node: number) => string } = {}): IrGraph {
  const batch = o.batch ?? 1;
  if (!Number.isInteger(batch) || batch < 1) throw new RangeError(`'batch' must be an integer >= 1, got ${batch}`);
  const values = new Map<string, IrValue>();
  const nodes: IrNode[] = [];
  /** IR value names by prim value id */
  const names: string[] = [];
  let counter = 0;
  // This runs for every node of every network a space enumerates: one object layout per kind of
  // value (fields in this order), no spreads, and the arrays passed in (always new ones, made
  // below) frozen in place rather than copied.
  const value = (prefix: string, shape: number[]): string => {
    const name = `${prefix}_${counter++}`;
    values.set(name, Object.freeze({ name, dtype: 'float32', shape: Object.freeze(shape), constant: false }));
    return name;
  };
  const constant = (prefix: string, shape: number[], data?: number[], dtype: IrValue['dtype'] = 'float32'): string => {
    const name = `${prefix}_${counter++}`;
    const frozen = Object.freeze(shape);
    values.set(name, Object.freeze(data ? { name, dtype, shape: frozen, constant: true, data: Object.freeze(data) } : { name, dtype, shape: frozen, constant: true }));
    return name;
  };
  let layer = '';
  const emit = (op: string, inputs: string[], shape: number[], attrs: Record<string, AttrValue> = NO_ATTRS): string => {
    const out = value(op.toLowerCase(), shape);
    nodes.push(Object.freeze({ name: `${layer}${op}_${counter++}`, op, attrs: Object.freeze(attrs), inputs: Object.freeze(inputs), outputs: Object.freeze([out]) }));
    return out;
  };
  const full = (v: number) => [batch, ...(graph.shapes[v] as readonly number[])];

  graph.inputs.forEach((v, i) => {
    const name = i === 0 ? 'input' : `input${i}`;
    values.set(name, Object.freeze({ name, dtype: 'float32', shape: Object.freeze(full(v)), constant: false }));
    names[v] = name;
  });
  graph.nodes.forEach((node: PrimNode, i) => {
    layer = o.layerOf ? `${o.layerOf(i)}/` : '';
    const ins = node.inputs.map((v) => names[v] as string);
    const x = ins[0] as string;
    const shape = full(node.output);
    const p = node.prim;
    let out: string;
    switch (p.kind) {
      case 'conv': {
        const w = constant('W', [p.cout, p.cin / p.groups, p.kernel, p.kernel]);
        const inputs = [x, w, ...(p.bias ? [constant('B', [p.cout])] : [])];
        out = emit('Conv', inputs, shape, {
          kernel_shape: [p.kernel, p.kernel], strides: [p.stride, p.stride], pads: [p.padding, p.padding, p.padding, p.padding],
          dilations: [p.dilation, p.dilation], group: p.groups, auto_pad: 'NOTSET',
        });
        break;
      }
      case 'batchnorm': {
        const c = [p.channels];
        out = emit('BatchNormalization', [x, constant('bn_scale', c), constant('bn_bias', c), constant('bn_mean', c), constant('bn_var', c)], shape, { epsilon: f32(1e-5) });
        break;
      }
      case 'act':
        if (p.fn === 'relu') out = emit('Relu', [x], shape);
        else if (p.fn === 'relu6') out = emit('Clip', [x, constant('clip_min', [], [0]), constant('clip_max', [], [6])], shape);
        else if (p.fn === 'hswish') out = emit('HardSwish', [x], shape);
        else if (p.fn === 'sigmoid') out = emit('Sigmoid', [x], shape);
        else out = emit('HardSigmoid', [x], shape, { alpha: f32(1 / 6), beta: 0.5 });
        break;
      case 'maxpool':
      case 'avgpool': {
        const attrs: Record<string, AttrValue> = {
          kernel_shape: [p.kernel, p.kernel], strides: [p.stride, p.stride], pads: [p.padding, p.padding, p.padding, p.padding], auto_pad: 'NOTSET', ceil_mode: 0,
        };
        if (p.kind === 'maxpool') attrs.dilations = [1, 1];
        else attrs.count_include_pad = p.countIncludePad ? 1 : 0;
        out = emit(p.kind === 'maxpool' ? 'MaxPool' : 'AveragePool', [x], shape, attrs);
        break;
      }
      case 'global_avgpool':
        out = emit('GlobalAveragePool', [x], shape);
        break;
      case 'flatten':
        out = emit('Flatten', [x], shape, { axis: 1 });
        break;
      case 'linear':
        out = emit('Gemm', [x, constant('W', [p.outFeatures, p.inFeatures]), ...(p.bias ? [constant('B', [p.outFeatures])] : [])], shape, { transB: 1 });
        break;
      case 'add':
        out = emit('Add', ins, shape);
        break;
      case 'mul':
        out = emit('Mul', ins, shape);
        break;
      case 'concat':
        out = emit('Concat', ins, shape, { axis: 1 });
        break;
      case 'channel_shuffle': {
        const [, c, h, w] = shape as [number, number, number, number];
        const split = emit('Reshape', [x, constant('shape', [5], [0, p.groups, c / p.groups, h, w], 'int64')], [batch, p.groups, c / p.groups, h, w]);
        const t = emit('Transpose', [split], [batch, c / p.groups, p.groups, h, w], { perm: [0, 2, 1, 3, 4] });
        out = emit('Reshape', [t, constant('shape', [4], [0, c, h, w], 'int64')], shape);
        break;
      }
      case 'zero':
        out = emit('Mul', [x, constant('zero', [], [0])], shape);
        break;
      case 'identity':
        out = emit('Identity', [x], shape);
        break;
    }
    names[node.output] = out;
  });
  let output = names[graph.output] as string;
  // the builder names the graph output 'output' (through an Identity when the output is an input)
  const last = nodes[nodes.length - 1];
  if (last && last.outputs[0] === output) {
    const v = values.get(output) as IrValue;
    values.delete(output);
    values.set('output', Object.freeze({ ...v, name: 'output' }));
    nodes[nodes.length - 1] = Object.freeze({ ...last, outputs: Object.freeze(['output']) });
    output = 'output';
  } else {
    layer = '';
    const v = values.get(output) as IrValue;
    nodes.push(Object.freeze({ name: `Identity_${counter++}`, op: 'Identity', attrs: Object.freeze({}), inputs: Object.freeze([output]), outputs: Object.freeze(['output']) }));
    values.set('output', Object.freeze({ ...v, name: 'output' }));
    output = 'output';
  }
  return Object.freeze({
    opset: 17,
    inputs: Object.freeze(graph.inputs.map((_, i) => (i === 0 ? 'input' : `input${i}`))),
    outputs: Object.freeze([output]),
    nodes: Object.freeze(nodes),
    values,
  });
}

/**
 * A space's network as IR, layer by layer (lowered as `lowerNetwork` does), every node named
 * after its layer (`cell3/Relu_12`), so kernels map back to the layers they run.
 */
export function importNetwork(net: Network, o: { batch?: number } = {}): IrGraph {
  const graph = lowerByLayer(net) ?? lowerDirectly(net);
  return importPrimGraph(graph.graph, { batch: o.batch ?? 1, layerOf: (i) => graph.layerNames[i] as string });
}

interface LayeredGraph {
  graph: PrimGraph;
  /** the layer of each prim node, by index */
  layerNames: readonly string[];
}

function lowerDirectly(net: Network): LayeredGraph {
  const L = new Lowering();
  let x = L.input(net.input);
  const layerNames: string[] = [];
  for (const layer of net.layers) {
    validateSpec(layer.spec);
    x = opDef(layer.spec.op).lower(layer.spec, L, [x]);
    for (let i = layerNames.length; i < L.nodeCount; i++) layerNames.push(layer.name);
  }
  return { graph: L.finish(x), layerNames };
}

/** a layer lowered on its own from one input (value 0): what lowering it inside a network appends, values renumbered */
interface LayerTemplate {
  readonly nodes: readonly PrimNode[];
  /** shapes of the values it made: value k (k ≥ 1) is shapes[k - 1] */
  readonly shapes: readonly Shape[];
  readonly output: number;
}

const templates = new Map<string, LayerTemplate | null>();
const TEMPLATE_LIMIT = 4096;

/**
 * A layer's lowering depends only on its spec and its input's shape, and makes values in order:
 * lowered inside a network after `base` values, value k of its template is value base + k - 1
 * there. Networks repeat layers (NAS-Bench-201: 5 equal cells a stage, and the same stem,
 * reductions and head in all 15,625), and each is lowered once. Keyed by the spec's JSON, as
 * nb201RuntimeKernels' cache is. Null for a layer whose lowering adds inputs: not replayable.
 */
function template(spec: OpSpec, input: Shape): LayerTemplate | null {
  const key = `${JSON.stringify(spec)}|${input.join(',')}`;
  const hit = templates.get(key);
  if (hit !== undefined) return hit;
  const L = new Lowering();
  const x = L.input(input);
  const out = opDef(spec.op).lower(spec, L, [x]);
  const g = L.finish(out);
  const t = g.inputs.length === 1 ? Object.freeze({ nodes: g.nodes, shapes: g.shapes.slice(1), output: out }) : null;
  if (templates.size >= TEMPLATE_LIMIT) templates.clear();
  templates.set(key, t);
  return t;
}

/** the network lowered by replaying each layer's template (null when a layer has none: then lowered directly) */
function lowerByLayer(net: Network): LayeredGraph | null {
  const shapes: Shape[] = [Object.freeze([...net.input])];
  const nodes: PrimNode[] = [];
  const layerNames: string[] = [];
  let x = 0;
  for (const layer of net.layers) {
    validateSpec(layer.spec);
    const t = template(layer.spec, shapes[x] as Shape);
    if (!t) return null;
    const input = x;
    const base = shapes.length;
    const at = (v: number) => (v === 0 ? input : base + v - 1);
    for (const s of t.shapes) shapes.push(s);
    for (const n of t.nodes) {
      nodes.push(Object.freeze({ prim: n.prim, inputs: Object.freeze(n.inputs.map(at)), output: at(n.output) }));
      layerNames.push(layer.name);
    }
    x = at(t.output);
  }
  const graph: PrimGraph = Object.freeze({ inputs: Object.freeze([0]), output: x, nodes: Object.freeze(nodes), shapes: Object.freeze(shapes) });
  return { graph, layerNames };
}
