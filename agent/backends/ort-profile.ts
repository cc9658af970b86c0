import onnxProto from 'onnx-proto';
import { median as ssMedian } from 'simple-statistics';
import type { RuntimeKernel, TimedKernel } from '../../ops-library/index.ts';
import type { KernelProfile } from '../../protocol/index.ts';

// Pure: ONNX Runtime's profiler output (a Chrome-trace JSON array) and the optimised graph it ran
// (`optimizedModelFilePath`) become the kernels the runtime really executed, with their times.
// No onnxruntime import and no I/O here, so kernel detection can use it as its ground truth on
// profiles and graphs captured anywhere (ort-node, ort-web's stdout, a file from another machine).

const { onnx } = onnxProto;

/** One event of ORT's profile. Node events are `<node name>_kernel_time`; runs are `model_run`. */
export interface ProfileEvent {
  cat: string;
  name: string;
  /** start, µs since the session's profiling began */
  ts: number;
  /** duration, µs */
  dur: number;
  args?: Record<string, unknown>;
}

/** A profile or graph that cannot be read: names what was wrong. */
export class KernelProfileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KernelProfileError';
  }
}

/**
 * Parses the profiler's JSON text (an array of trace events). ORT ≤ 1.x writes one event per
 * line inside `[ … ]`; an event it did not finish (a crashed run) makes the text invalid JSON.
 *
 * @example
 * const events = parseProfileJson(fs.readFileSync('onnxruntime_profile_….json', 'utf8'));
 */
export function parseProfileJson(text: string): ProfileEvent[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new KernelProfileError(`profile is not valid JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(raw)) throw new KernelProfileError(`profile must be a JSON array of trace events, got ${typeof raw}`);
  return raw.map((e, i) => {
    const ev = e as Partial<ProfileEvent> | null;
    if (ev === null || typeof ev !== 'object' || typeof ev.name !== 'string' || typeof ev.cat !== 'string' || typeof ev.ts !== 'number' || typeof ev.dur !== 'number') {
      throw new KernelProfileError(`profile event [${i}] is not a trace event with cat, name, ts and dur`);
    }
    return ev as ProfileEvent;
  });
}

/** What this module needs of an ONNX graph node. */
export interface GraphNode {
  /** the node's name; '' where the file left it out */
  name: string;
  /** 'Conv', or 'com.microsoft:FusedConv' outside the default domain */
  op: string;
  attrs: Record<string, number | string | number[]>;
  inputs: string[];
  outputs: string[];
}

/** An ONNX graph reduced to its nodes and the names of the tensors that exist in it. */
export interface GraphInfo {
  nodes: GraphNode[];
  /** every tensor name: graph inputs, initializers, node inputs and outputs */
  tensors: Set<string>;
  /** graph inputs and initializers: values no node produces */
  sources: Set<string>;
  /** the graph's inputs that are not initializers: what a caller feeds */
  inputs: Set<string>;
}

const num = (v: number | { toNumber(): number } | null | undefined): number => (v == null ? 0 : typeof v === 'number' ? v : v.toNumber());

function attrValue(a: onnxProto.onnx.IAttributeProto): number | string | number[] | undefined {
  const T = onnx.AttributeProto.AttributeType;
  switch (a.type) {
    case T.INT:
      return num(a.i);
    case T.FLOAT:
      return a.f ?? 0;
    case T.STRING:
      return new TextDecoder().decode(a.s ?? new Uint8Array());
    case T.INTS:
      return (a.ints ?? []).map(num);
    case T.FLOATS:
      return [...(a.floats ?? [])];
    default:
      // tensors, graphs, string lists: not a cost-relevant scalar
      return undefined;
  }
}

/** 'Conv' in the default domain, 'com.microsoft.nchwc:Conv' outside it. */
export function qualifiedOp(domain: string | null | undefined, opType: string): string {
  return !domain || domain === 'ai.onnx' ? opType : `${domain}:${opType}`;
}

/**
 * Decodes ONNX model bytes into the nodes and tensor names this module uses.
 * Throws KernelProfileError for bytes that are not an ONNX model with a graph.
 */
export function graphInfo(bytes: Uint8Array): GraphInfo {
  let model: onnxProto.onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new KernelProfileError(`not an ONNX model: ${(e as Error).message}`);
  }
  const g = model.graph;
  if (!g) throw new KernelProfileError('ONNX model has no graph');
  const nodes: GraphNode[] = (g.node ?? []).map((n) => {
    const attrs: Record<string, number | string | number[]> = {};
    for (const a of n.attribute ?? []) {
      const v = attrValue(a);
      if (v !== undefined && a.name) attrs[a.name] = v;
    }
    return { name: n.name ?? '', op: qualifiedOp(n.domain, n.opType ?? ''), attrs, inputs: [...(n.input ?? [])], outputs: [...(n.output ?? [])] };
  });
  const initializers = new Set((g.initializer ?? []).map((t) => t.name ?? ''));
  const inputs = new Set((g.input ?? []).map((v) => v.name ?? '').filter((n) => n && !initializers.has(n)));
  const sources = new Set<string>([...inputs, ...initializers]);
  const tensors = new Set<string>(sources);
  for (const n of nodes) for (const t of [...n.inputs, ...n.outputs]) if (t) tensors.add(t);
  tensors.delete('');
  return { nodes, tensors, sources, inputs };
}

/** A node event of the profile, reduced to what the kernels need. */
interface NodeEvent {
  name: string;
  op: string;
  ts: number;
  dur: number;
  inputs: number[][];
  outputs: number[][];
}

const KERNEL_SUFFIX = '_kernel_time';

function shapes(v: unknown): number[][] {
  // [{ float: [1, 16, 32, 32] }, …]: one entry per present input or output
  if (!Array.isArray(v)) return [];
  return v.map((entry) => {
    const dims = entry && typeof entry === 'object' ? Object.values(entry as Record<string, unknown>)[0] : undefined;
    return Array.isArray(dims) ? dims.map((d) => Number(d)) : [];
  });
}

function nodeEvents(events: readonly ProfileEvent[]): NodeEvent[] {
  const out: NodeEvent[] = [];
  for (const e of events) {
    // older ORT versions also write `_fence_before` / `_fence_after` events: not kernel time
    if (e.cat !== 'Node' || !e.name.endsWith(KERNEL_SUFFIX)) continue;
    const args = e.args ?? {};
    out.push({
      name: e.name.slice(0, -KERNEL_SUFFIX.length),
      op: typeof args.op_name === 'string' ? args.op_name : '',
      ts: e.ts,
      dur: e.dur,
      inputs: shapes(args.input_type_shape),
      outputs: shapes(args.output_type_shape),
    });
  }
  return out;
}

/** The runs of a profile, in order, each with the node events inside it. */
interface Run {
  dur: number;
  nodes: NodeEvent[];
}

function splitRuns(events: readonly ProfileEvent[]): Run[] {
  const runs = events
    .filter((e) => e.cat === 'Session' && e.name === 'model_run')
    .sort((a, b) => a.ts - b.ts)
    .map((e) => ({ ts: e.ts, end: e.ts + e.dur, dur: e.dur, nodes: [] as NodeEvent[] }));
  if (runs.length === 0) throw new KernelProfileError("profile has no 'model_run' event: the session was profiled without a run");
  for (const n of nodeEvents(events)) {
    const run = runs.find((r) => n.ts >= r.ts && n.ts <= r.end);
    // a node event outside every run (none seen in ORT 1.30) cannot be attributed: left out
    if (run) run.nodes.push(n);
  }
  return runs.map((r) => ({ dur: r.dur, nodes: r.nodes.sort((a, b) => a.ts - b.ts) }));
}

/** simple-statistics' median, 0 for no values (a kernel no run reported). */
function median(xs: readonly number[]): number {
  return xs.length === 0 ? 0 : ssMedian([...xs]);
}

/** Input shapes in the node's input order, [] for an absent optional input ('' in the graph). */
function alignShapes(names: readonly string[] | undefined, measured: number[][]): number[][] {
  if (!names) return measured;
  const present = names.filter((n) => n !== '').length;
  // the profiler lists present inputs only; if it disagrees with the graph, keep what it measured
  if (present !== measured.length) return measured;
  let i = 0;
  return names.map((n) => (n === '' ? [] : (measured[i++] as number[])));
}

/** Suffixes ORT appends to a node's name (or its output's) when it rewrites it: `relu_140_nchwc`, `batchnormalization_431_bn_nchwc`. */
function nameStems(name: string): string[] {
  const stems = [name];
  let s = name;
  for (let i = 0; i < 3; i++) {
    const m = /^(.+)_([a-z]+)$/i.exec(s);
    if (!m) break;
    s = m[1] as string;
    stems.push(s);
  }
  return stems;
}

/** The op a fused kernel is built around: FusedConv and NCHWc Conv are Convs, FusedGemm a Gemm. */
function baseOp(op: string): string {
  const bare = op.slice(op.lastIndexOf(':') + 1);
  return /^Fused(Conv|Gemm|MatMul)$/.test(bare) ? bare.slice(5) : bare;
}

/** ORT's contrib ops (domain com.microsoft) a profile names without their domain. */
const CONTRIB_OPS = new Set(['FusedConv', 'FusedGemm', 'FusedMatMul', 'Gelu', 'BiasGelu', 'FastGelu', 'QuickGelu', 'SkipLayerNormalization', 'NhwcMaxPool']);

/** Kernels ORT inserts to change a tensor's memory layout: they stand for no node of the model. */
const LAYOUT_OPS = new Set(['ReorderInput', 'ReorderOutput']);

const ACTIVATIONS = new Set(['Relu', 'Clip', 'Sigmoid', 'HardSigmoid', 'HardSwish', 'LeakyRelu', 'Tanh', 'Elu', 'Selu', 'Softplus', 'Gelu']);

/**
 * Where a node can sit in an ORT fusion, which absorbs the nodes that follow a Conv/Gemm/MatMul
 * head in this order: per-channel affine ops (BatchNormalization, Add/Mul of a constant), then an
 * Add of another tensor (NCHWc's Sum), then one activation. -1: never fused into a head.
 */
function fusionStage(n: GraphNode, constants: ReadonlySet<string>): number {
  const op = baseOp(n.op);
  if (ACTIVATIONS.has(op)) return 3;
  if (op === 'Add' || op === 'Mul' || op === 'Sum') return n.inputs.some((t) => constants.has(t)) ? 1 : op === 'Mul' ? -1 : 2;
  if (op === 'BatchNormalization') return 1;
  return -1;
}

/**
 * Which source-graph nodes each runtime kernel covers. ORT keeps a node's name when it leaves
 * the node alone (or fuses followers into it: wasm's FusedConv keeps the Conv's name) and names a
 * rewritten node after its output tensor plus a suffix (`<output>_nchwc`), so a kernel is first
 * matched by name, then by the source tensor its name stem or outputs carry. From a matched
 * follower (a BN, an activation) the fusion is walked back to its head (the Conv) through values
 * with one consumer, in ORT's fusion order. A source node still unmatched was removed or fused
 * forward: a common subexpression goes with its twin, anything else with the latest-running
 * kernel among its inputs' producers (a Conv+Add Sum fusion runs after both addends exist).
 * Kernels ORT inlined from a function (HardSwish → HardSigmoid, Mul: unnamed, `anonymous`) all
 * cover the one source node their body replaced, found through the optimised graph's tensors.
 * Nodes left then (constant-folded at load) are returned apart.
 */
export function coverSourceNodes(
  source: GraphInfo,
  kernels: ReadonlyArray<{ name: string; op: string; outputs?: readonly string[]; anonymous?: boolean; inputNames?: readonly string[] }>,
  optimised?: GraphInfo,
): { nodes: string[][]; folded: string[] } {
  const srcName = (i: number) => source.nodes[i]?.name || `#${i}`;
  const byName = new Map<string, number>();
  const producer = new Map<string, number>();
  const consumers = new Map<string, number>();
  source.nodes.forEach((n, i) => {
    if (n.name) byName.set(n.name, i);
    for (const t of n.outputs) if (t) producer.set(t, i);
    for (const t of n.inputs) if (t) consumers.set(t, (consumers.get(t) ?? 0) + 1);
  });
  const sig = (i: number) => {
    const n = source.nodes[i] as GraphNode;
    return JSON.stringify([n.op, n.inputs, n.attrs]);
  };
  const owner = new Map<number, number>();
  const claim = (s: number | undefined, k: number): boolean => {
    if (s === undefined || owner.has(s)) return false;
    owner.set(s, k);
    return true;
  };
  const seeds: Array<[number, number]> = [];
  // 1. a source node with the kernel's own name
  kernels.forEach((k, ki) => {
    const s = k.anonymous ? undefined : byName.get(k.name);
    if (claim(s, ki)) seeds.push([s as number, ki]);
  });
  // 2. the source tensor the kernel's name stem or its outputs carry
  kernels.forEach((k, ki) => {
    // a layout change (NCHWc reorders) covers no source node, though its output may carry a source tensor's name
    if (LAYOUT_OPS.has(baseOp(k.op)) || k.anonymous) return;
    for (const t of [...nameStems(k.name), ...(k.outputs ?? [])]) {
      const s = producer.get(t);
      if (claim(s, ki)) {
        seeds.push([s as number, ki]);
        break;
      }
    }
  });
  // 3. from a follower back to its head, in fusion order, through single-consumer values
  for (const [seed, ki] of seeds) {
    const head = baseOp((kernels[ki] as { op: string }).op);
    const path: number[] = [];
    let cur = seed;
    let stage = fusionStage(source.nodes[cur] as GraphNode, source.sources);
    let found = baseOp((source.nodes[cur] as GraphNode).op) === head;
    while (!found && stage > 0) {
      const n = source.nodes[cur] as GraphNode;
      const prev = n.inputs
        .filter((t) => t && !source.sources.has(t) && consumers.get(t) === 1)
        .map((t) => producer.get(t))
        .find((p) => p !== undefined && !owner.has(p) && !path.includes(p)
          && (baseOp((source.nodes[p] as GraphNode).op) === head || fusionStage(source.nodes[p] as GraphNode, source.sources) > 0 && fusionStage(source.nodes[p] as GraphNode, source.sources) <= stage));
      if (prev === undefined) break;
      path.push(prev);
      cur = prev;
      found = baseOp((source.nodes[cur] as GraphNode).op) === head;
      stage = found ? 0 : fusionStage(source.nodes[cur] as GraphNode, source.sources);
    }
    if (found) for (const p of path) claim(p, ki);
  }
  // 4. the body of an inlined function (unnamed kernels joined by their tensors) stands for the one
  // source node fed by what feeds the body: the kernels upstream of it, or the graph's inputs
  const shared = new Map<number, number[]>();
  const anon = kernels.map((k, i) => (k.anonymous ? i : -1)).filter((i) => i >= 0);
  if (anon.length > 0 && optimised) {
    const producedBy = new Map<string, number>();
    kernels.forEach((k, i) => (k.outputs ?? []).forEach((t) => producedBy.set(t, i)));
    const groups: number[][] = [];
    for (const i of anon) {
      const ins = kernels[i]?.inputNames ?? [];
      const joined = groups.find((g) => ins.some((t) => g.some((j) => kernels[j]?.outputs?.includes(t))));
      if (joined) joined.push(i);
      else groups.push([i]);
    }
    for (const g of groups) {
      const external = g.flatMap((i) => kernels[i]?.inputNames ?? []).filter((t) => t && !g.some((j) => kernels[j]?.outputs?.includes(t)));
      const upstream = new Set(external.map((t) => producedBy.get(t)).filter((k): k is number => k !== undefined));
      const fromGraph = external.some((t) => optimised.inputs.has(t));
      // an input of the replaced node: a constant, a graph input (if the body reads one), or a value of an upstream kernel
      const fed = (t: string) => {
        if (!t || (source.sources.has(t) && !source.inputs.has(t))) return true;
        if (source.inputs.has(t)) return fromGraph;
        const k = owner.get(producer.get(t) ?? -1);
        return k !== undefined && upstream.has(k);
      };
      const s = source.nodes.findIndex((n, i) => !owner.has(i) && n.inputs.some((t) => t && !(source.sources.has(t) && !source.inputs.has(t))) && n.inputs.every(fed));
      if (s < 0) continue;
      claim(s, g[0] as number);
      shared.set(s, g.slice(1));
    }
  }
  // 5. removed twins (common subexpressions) and forward fusions, until nothing changes
  for (let changed = true; changed; ) {
    changed = false;
    const claimedSigs = new Map<string, number>();
    for (const [s, k] of owner) claimedSigs.set(sig(s), k);
    source.nodes.forEach((n, i) => {
      if (owner.has(i)) return;
      const twin = claimedSigs.get(sig(i));
      if (twin !== undefined) {
        changed = claim(i, twin) || changed;
        return;
      }
      const ks = n.inputs.map((t) => owner.get(producer.get(t) ?? -1)).filter((k): k is number => k !== undefined);
      if (ks.length > 0) changed = claim(i, Math.max(...ks)) || changed;
    });
  }
  const nodes: string[][] = kernels.map(() => []);
  const folded: string[] = [];
  source.nodes.forEach((_, i) => {
    const k = owner.get(i);
    if (k === undefined) folded.push(srcName(i));
    else for (const j of [k, ...(shared.get(i) ?? [])]) (nodes[j] as string[]).push(srcName(i));
  });
  return { nodes, folded };
}

/** What kernelsFromProfile returns: the profile as the protocol carries it, plus diagnostics. */
export interface KernelProfileResult extends KernelProfile {
  kernels: TimedKernel[];
  /** source nodes no kernel covers (constant-folded at load); empty without a source graph */
  folded: string[];
  /** profiled node names the optimised graph does not have (their attrs come from the source graph, if any) */
  unmatched: string[];
}

export interface KernelsFromProfileOptions {
  /** the optimised graph the session ran (ORT's optimizedModelFilePath); without it attrs come from the source graph by node name */
  optimised?: Uint8Array | GraphInfo;
  /** the model as given to the runtime: fills `nodes` (which source nodes each kernel covers) */
  source?: Uint8Array | GraphInfo;
  /** leading runs to leave out (warm-up); default 0 */
  warmup?: number;
}

function groupBy<T>(xs: readonly T[], key: (x: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const x of xs) m.set(key(x), [...(m.get(key(x)) ?? []), x]);
  return m;
}

const info = (g: Uint8Array | GraphInfo | undefined): GraphInfo | undefined => (g === undefined ? undefined : g instanceof Uint8Array ? graphInfo(g) : g);

/**
 * The kernels of a profiled session, in execution order, each with its median time (ms) over the
 * runs after `warmup`; the median run (`runMs`, ORT's `model_run` event) and the median per-run
 * sum of kernel times (`kernelSumMs`). Each profiled node is joined by name to its node in the
 * optimised graph for its domain-qualified op and attributes; shapes come from the profile.
 * A node that runs several times in one run (inside a Loop) counts its total per run.
 *
 * @example
 * const result = kernelsFromProfile(parseProfileJson(text), { optimised: optBytes, source: modelBytes, warmup: 3 });
 * for (const k of result.kernels) console.log(k.op, k.outputs[0], k.ms.toFixed(3), k.nodes);
 */
export function kernelsFromProfile(events: readonly ProfileEvent[], options: KernelsFromProfileOptions = {}): KernelProfileResult {
  const warmup = options.warmup ?? 0;
  if (!Number.isInteger(warmup) || warmup < 0) throw new RangeError(`'warmup' must be an integer >= 0, got ${warmup}`);
  const all = splitRuns(events);
  const runs = all.slice(warmup);
  if (runs.length === 0) throw new KernelProfileError(`profile has ${all.length} run(s), all of them warm-up (warmup ${warmup}): nothing left to time`);
  const optimised = info(options.optimised);
  const source = info(options.source);

  // kernels in execution order of the first timed run; a node first seen later goes after them
  const order: string[] = [];
  const first = new Map<string, NodeEvent>();
  for (const r of runs) for (const n of r.nodes) if (!first.has(n.name)) (first.set(n.name, n), order.push(n.name));
  if (order.length === 0) throw new KernelProfileError('profile has runs but no node events: was the session run with profiling on?');
  const perRun = runs.map((r) => {
    const t = new Map<string, number>();
    for (const n of r.nodes) t.set(n.name, (t.get(n.name) ?? 0) + n.dur);
    return t;
  });

  const optByName = new Map((optimised?.nodes ?? []).filter((n) => n.name).map((n) => [n.name, n] as const));
  // ORT leaves the nodes it inlines from a function (HardSwish → HardSigmoid, Mul) unnamed in the
  // optimised file and calls them `<OpType>_<node index>` in the profile: joined per op type in
  // index order against the file's order of the unnamed nodes
  const anonymous = new Set<string>();
  for (const [op, nodes] of groupBy((optimised?.nodes ?? []).filter((n) => !n.name), (n) => baseOp(n.op))) {
    const events = order
      .filter((name) => !optByName.has(name) && (first.get(name) as NodeEvent).op === op && new RegExp(`^${op}_\\d+$`).test(name))
      .sort((a, b) => Number(a.slice(op.length + 1)) - Number(b.slice(op.length + 1)));
    if (events.length !== nodes.length) continue;
    events.forEach((name, i) => (optByName.set(name, nodes[i] as GraphNode), anonymous.add(name)));
  }
  const srcByName = new Map((source?.nodes ?? []).filter((n) => n.name).map((n) => [n.name, n] as const));
  const unmatched: string[] = [];
  const base = order.map((name) => {
    const ev = first.get(name) as NodeEvent;
    const opt = optByName.get(name);
    if (optimised && !opt) unmatched.push(name);
    const src = srcByName.get(name);
    // without the optimised graph, the profile's op name (no domain) and the source node of the same name are all there is
    const op = opt ? opt.op : ev.op ? (CONTRIB_OPS.has(ev.op) ? `com.microsoft:${ev.op}` : ev.op) : src?.op ?? '?';
    return {
      name,
      op,
      attrs: opt ? opt.attrs : src && baseOp(src.op) === baseOp(op) ? { ...src.attrs } : {},
      inputs: alignShapes(opt?.inputs, ev.inputs),
      outputs: ev.outputs,
      outputNames: opt?.outputs ?? [],
    };
  });
  const cover = source
    ? coverSourceNodes(
        source,
        base.map((b) => ({ name: b.name, op: b.op, outputs: b.outputNames, ...(anonymous.has(b.name) ? { anonymous: true, inputNames: optByName.get(b.name)?.inputs ?? [] } : {}) })),
        optimised,
      )
    : null;
  if (!optimised && cover && source) {
    // a fused kernel's activation is an attribute of the optimised node; without that graph, the covered activation names it
    const srcByAnyName = new Map(source.nodes.map((n, i) => [n.name || `#${i}`, n] as const));
    base.forEach((b, i) => {
      if (!/:Fused/.test(b.op)) return;
      const act = (cover.nodes[i] ?? []).map((n) => srcByAnyName.get(n)).find((n) => n && ACTIVATIONS.has(baseOp(n.op)));
      if (act) b.attrs.activation = baseOp(act.op);
    });
  }

  const kernels: TimedKernel[] = base.map((b, i) => ({
    op: b.op,
    attrs: b.attrs,
    inputs: b.inputs,
    outputs: b.outputs,
    nodes: cover ? (cover.nodes[i] as string[]) : [b.name],
    name: b.name,
    ms: median(perRun.map((t) => t.get(b.name) ?? 0)) / 1000,
  }));
  const sums = perRun.map((t) => [...t.values()].reduce((a, b) => a + b, 0));
  return {
    runs: runs.length,
    warmup,
    runMs: median(runs.map((r) => r.dur)) / 1000,
    kernelSumMs: median(sums) / 1000,
    kernels,
    folded: cover?.folded ?? [],
    unmatched,
  };
}

/**
 * What the runtime really runs, without times: the kernel list kernel detection is checked
 * against (the profiled nodes joined to the optimised graph, as kernelsFromProfile).
 */
export function runtimeKernels(events: readonly ProfileEvent[], options: Omit<KernelsFromProfileOptions, 'warmup'> = {}): RuntimeKernel[] {
  return kernelsFromProfile(events, options).kernels.map(({ op, attrs, inputs, outputs, nodes }) => ({ op, attrs, inputs, outputs, nodes }));
}
