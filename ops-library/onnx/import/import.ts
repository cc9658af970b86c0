import { decodeModel, dtypeOf, num, readAttrs, readTensor, type NodeProto, type RawAttr } from './decode.ts';
import { OnnxFormatError, ShapeInferenceError, SymbolicDimensionError, UnsupportedOperatorError } from './errors.ts';
import { INFER, InferFailure, plainAttrs, type InValue } from './infer.ts';
import { numel } from './tensor.ts';
import { SMALL_TENSOR_ELEMENTS, type ImportOptions, type IrGraph, type IrNode, type IrValue } from './types.ts';

const DEFAULT_DOMAINS = new Set(['', 'ai.onnx']);

function freezeValue(v: IrValue): IrValue {
  return Object.freeze({ ...v, shape: Object.freeze([...v.shape]), ...(v.data ? { data: Object.freeze([...v.data]) } : {}) });
}

function resolveInputShape(name: string, dims: readonly (number | string)[], options: ImportOptions, single: boolean): number[] {
  const given = options.inputShape;
  let want: readonly number[] | undefined;
  if (Array.isArray(given)) {
    if (!single) throw new RangeError(`'inputShape' is one shape but the model has several inputs; give shapes by input name`);
    want = given as readonly number[];
  } else if (given && typeof given === 'object') {
    want = (given as Readonly<Record<string, readonly number[]>>)[name];
  }
  if (want !== undefined) {
    if (!want.every((d) => Number.isInteger(d) && d > 0)) throw new RangeError(`'inputShape' for '${name}' must be positive integers, got [${want.join(', ')}]`);
    if (want.length !== dims.length || dims.some((d, i) => typeof d === 'number' && d > 0 && d !== want?.[i])) {
      throw new RangeError(`'inputShape' [${want.join(', ')}] does not match graph input '${name}' [${dims.join(', ')}]`);
    }
    return [...want];
  }
  if (dims.some((d) => typeof d !== 'number' || !(d > 0))) throw new SymbolicDimensionError(name, dims);
  return dims as number[];
}

/** Kahn's order over value dependencies: ONNX asks for it, not every exporter keeps it. */
function topoOrder(nodes: readonly NodeProto[], known: ReadonlySet<string>): NodeProto[] {
  const producer = new Map<string, number>();
  nodes.forEach((n, i) => (n.output ?? []).forEach((o) => o && producer.set(o, i)));
  const pending = nodes.map((n) => new Set((n.input ?? []).filter((x) => x && !known.has(x)).map((x) => producer.get(x as string) ?? -1)));
  nodes.forEach((n, i) => {
    for (const x of n.input ?? []) {
      if (x && !known.has(x) && !producer.has(x)) {
        throw new OnnxFormatError(`tensor '${x}' read by node '${n.name || `${n.opType}_${i}`}' is never produced (no node, initializer or graph input): a truncated or broken file?`);
      }
    }
  });
  const readers = new Map<number, number[]>();
  pending.forEach((deps, i) => deps.forEach((d) => readers.set(d, [...(readers.get(d) ?? []), i])));
  const order: NodeProto[] = [];
  // stable: of the nodes ready, the earliest in the file goes first (a sorted file keeps its order)
  const ready = pending.flatMap((d, i) => (d.size === 0 ? [i] : []));
  const done = new Set<number>();
  while (ready.length > 0) {
    const i = ready.shift() as number;
    if (done.has(i)) continue;
    done.add(i);
    order.push(nodes[i] as NodeProto);
    for (const r of readers.get(i) ?? []) {
      const deps = pending[r] as Set<number>;
      deps.delete(i);
      if (deps.size === 0) {
        let at = ready.findIndex((x) => x > r);
        if (at < 0) at = ready.length;
        ready.splice(at, 0, r);
      }
    }
  }
  if (order.length !== nodes.length) throw new OnnxFormatError(`the graph has a cycle through ${nodes.length - order.length} nodes`);
  return order;
}

/**
 * Imports ONNX model bytes into the ops-library IR: every tensor's shape inferred, every
 * computation on constants folded away (Constant, ConstantOfShape, Shape → Gather → Concat
 * chains, Cast, arithmetic on constants, Identity on weights), auto_pad resolved into pads.
 * Weights are never needed: initializers whose data was dropped (`stripOnnx`, external data)
 * import the same. Throws OnnxFormatError (not ONNX, truncated), UnsupportedOperatorError (every
 * operator it cannot infer, with its nodes), SymbolicDimensionError (pass `inputShape`) or
 * ShapeInferenceError (the node, and why).
 *
 * @example
 * const g = importOnnx(readFileSync('resnet18.onnx'), { inputShape: [1, 3, 224, 224] });
 * g.values.get(g.outputs[0]).shape; // [1, 1000]
 */
export function importOnnx(bytes: Uint8Array, options: ImportOptions = {}): IrGraph {
  const model = decodeModel(bytes);
  const graph = model.graph as NonNullable<typeof model.graph>;
  const opsetEntry = (model.opsetImport ?? []).find((o) => DEFAULT_DOMAINS.has(o.domain ?? ''));
  const opset = opsetEntry ? num(opsetEntry.version) : 1;

  const values = new Map<string, IrValue>();
  for (const [i, t] of (graph.initializer ?? []).entries()) {
    const name = t.name || fail(`initializer ${i} has no name`);
    const c = readTensor(t, `initializer '${name}'`);
    values.set(name, freezeValue({ name, dtype: c.dtype, shape: c.shape, constant: true, ...(c.data ? { data: c.data } : {}) }));
  }
  const dataInputs = (graph.input ?? []).filter((v) => !values.has(v.name as string));
  const inputs: string[] = [];
  if (options.inputShape && !Array.isArray(options.inputShape)) {
    const names = dataInputs.map((v) => v.name as string);
    for (const k of Object.keys(options.inputShape)) if (!names.includes(k)) throw new RangeError(`'inputShape' names '${k}', which is not a graph input (inputs: ${names.join(', ')})`);
  }
  for (const v of dataInputs) {
    const name = v.name as string;
    const tt = v.type?.tensorType;
    if (!tt) throw new OnnxFormatError(`graph input '${name}' is not a tensor`);
    const dims = (tt.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : d.dimValue !== undefined && d.dimValue !== null ? num(d.dimValue) : '?'));
    const shape = resolveInputShape(name, dims, options, dataInputs.length === 1);
    values.set(name, freezeValue({ name, dtype: dtypeOf(tt.elemType, `graph input '${name}'`), shape, constant: false }));
    inputs.push(name);
  }

  // every operator that cannot be inferred, all at once
  // node names identify source nodes in kernels' `nodes`: unnamed ones get `<op>_<index>`, repeated ones a suffix
  const seen = new Set<string>();
  const names = (graph.node ?? []).map((n, i) => {
    let name = n.name || `${n.opType}_${i}`;
    if (seen.has(name)) name = `${name}_${i}`;
    seen.add(name);
    return name;
  });
  const unsupported = new Map<string, string[]>();
  graph.node?.forEach((n, i) => {
    const op = DEFAULT_DOMAINS.has(n.domain ?? '') ? (n.opType as string) : `${n.domain}:${n.opType}`;
    const hasGraph = (n.attribute ?? []).some((a) => a.g || (a.graphs && a.graphs.length > 0));
    if (!INFER[op] || hasGraph) unsupported.set(op, [...(unsupported.get(op) ?? []), names[i] as string]);
  });
  if (unsupported.size > 0) throw new UnsupportedOperatorError([...unsupported].map(([op, nodes]) => ({ op, nodes })));

  const nameOf = new Map<NodeProto, string>((graph.node ?? []).map((n, i) => [n, names[i] as string]));
  const nodes: IrNode[] = [];
  for (const n of topoOrder(graph.node ?? [], new Set(values.keys()))) {
    const name = nameOf.get(n) as string;
    const op = n.opType as string;
    const attrs = readAttrs(n, name) as Record<string, RawAttr>;
    const ins = (n.input ?? []).map((x) => (x ? (values.get(x) as InValue) : undefined));
    const outputs = (n.output ?? []).map(String);
    let inferred;
    try {
      inferred = (INFER[op] as (typeof INFER)[string])({ op, opset, attrs, inputs: ins, outputCount: outputs.length });
    } catch (e) {
      if (e instanceof InferFailure) throw new ShapeInferenceError(name, op, e.message);
      throw e;
    }
    for (const o of inferred.outputs) {
      if (o.shape.some((d) => !Number.isInteger(d) || d < 0)) throw new ShapeInferenceError(name, op, `it gives an invalid shape [${o.shape.join(', ')}]`);
    }
    // a node of constants only is folded away, as every runtime's optimiser does
    // (Shape and Size only read the static shape, so they fold whatever their input)
    const constant =
      op === 'Shape' || op === 'Size' || (ins.every((v) => v === undefined || v.constant) && (op === 'Constant' || ins.some((v) => v !== undefined)));
    outputs.forEach((o, i) => {
      if (!o) return;
      const r = inferred.outputs[i];
      if (!r) throw new ShapeInferenceError(name, op, `it has ${outputs.length} outputs, the operator gives ${inferred.outputs.length}`);
      const keep = constant && r.data !== undefined && numel(r.shape) <= SMALL_TENSOR_ELEMENTS;
      const fill = constant && !keep && r.fill !== undefined ? { fill: r.fill } : {};
      values.set(o, freezeValue({ name: o, dtype: r.dtype, shape: r.shape, constant, ...(keep ? { data: r.data } : {}), ...fill }));
    });
    if (!constant) {
      nodes.push(Object.freeze({
        name,
        op,
        attrs: Object.freeze(inferred.attrs ?? plainAttrs(attrs)),
        inputs: Object.freeze((n.input ?? []).map(String)),
        outputs: Object.freeze(outputs),
      }));
    }
  }
  const outputs = (graph.output ?? []).map((o) => o.name as string);
  for (const o of outputs) if (!values.has(o)) throw new OnnxFormatError(`graph output '${o}' is never produced`);
  return Object.freeze({ opset, inputs: Object.freeze(inputs), outputs: Object.freeze(outputs), nodes: Object.freeze(nodes), values });
}

function fail(msg: string): never {
  throw new OnnxFormatError(msg);
}
