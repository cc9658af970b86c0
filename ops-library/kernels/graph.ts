import type { AttrValue, DType, IrGraph } from '../onnx/import/types.ts';

/** A tensor of the graph being rewritten (never edited: a rewrite makes a new value). */
export interface WValue {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly constant: boolean;
  readonly data?: readonly number[];
  readonly fill?: number;
}

/** A node of the graph being rewritten; `covers` names the source nodes it stands for. */
export interface WNode {
  name: string;
  op: string;
  attrs: Record<string, AttrValue>;
  inputs: string[];
  outputs: string[];
  covers: string[];
}

/**
 * The mutable graph kernel detection rewrites, one runtime optimisation at a time. Nodes stay in
 * a topological order (`sort()` after insertions); value consumers are recomputed on demand.
 */
export class WorkGraph {
  readonly values: Map<string, WValue>;
  readonly inputs: readonly string[];
  readonly outputs: Set<string>;
  /** the model's default-domain opset: some rewrites apply to newer operator versions only */
  readonly opset: number;
  private index: { producer: Map<string, WNode>; consumers: Map<string, WNode[]> } | null = null;
  private counter = 0;
  /**
   * The node order, removed nodes included until the next read of `nodes`: a pass removing one
   * node at a time would otherwise filter the whole list per removal (quadratic in the graph).
   */
  private list: WNode[];
  /** how many entries of `list` are removed nodes still to be dropped */
  private deadInList = 0;
  private revisionCount = 0;

  constructor(ir: IrGraph) {
    // values are never edited (a rewrite makes new ones): shared with the IR, not copied
    this.values = new Map(ir.values);
    this.inputs = ir.inputs;
    this.outputs = new Set(ir.outputs);
    this.opset = ir.opset;
    this.list = ir.nodes.map((n) => ({ name: n.name, op: n.op, attrs: { ...n.attrs }, inputs: [...n.inputs], outputs: [...n.outputs], covers: [n.name] }));
  }

  private readonly dead = new WeakSet<WNode>();

  /** the nodes in order (removed ones gone) */
  get nodes(): WNode[] {
    if (this.deadInList > 0) {
      this.list = this.list.filter((n) => !this.dead.has(n));
      this.deadInList = 0;
    }
    return this.list;
  }

  set nodes(nodes: WNode[]) {
    this.list = nodes;
    this.deadInList = 0;
    this.revisionCount++;
  }

  /**
   * Counts the changes made through this class's methods (not direct edits of a node's fields,
   * which passes make only on the way to reporting a change): the same revision is the same graph.
   */
  get revision(): number {
    return this.revisionCount;
  }

  /** call after changing a node's inputs or outputs directly (setInputs/setOutputs keep the index) */
  touch(): void {
    this.revisionCount++;
    this.index = null;
  }

  private built() {
    if (!this.index) {
      this.index = { producer: new Map(), consumers: new Map() };
      for (const n of this.nodes) this.register(n);
    }
    return this.index;
  }

  private register(n: WNode): void {
    if (!this.index) return;
    for (const o of n.outputs) if (o) this.index.producer.set(o, n);
    for (const i of n.inputs) {
      if (!i) continue;
      const list = this.index.consumers.get(i);
      // a node reading a value twice (Add(x, x)) is listed twice: ORT counts edges
      if (list) list.push(n);
      else this.index.consumers.set(i, [n]);
    }
  }

  private unregister(n: WNode): void {
    if (!this.index) return;
    for (const o of n.outputs) if (o && this.index.producer.get(o) === n) this.index.producer.delete(o);
    for (const i of n.inputs) {
      const list = i ? this.index.consumers.get(i) : undefined;
      const at = list ? list.indexOf(n) : -1;
      if (list && at >= 0) list.splice(at, 1);
    }
  }

  /** changes a node's inputs, keeping producer/consumer lookups current */
  setInputs(n: WNode, inputs: readonly string[]): void {
    this.revisionCount++;
    this.unregister(n);
    n.inputs = [...inputs];
    this.register(n);
  }

  setOutputs(n: WNode, outputs: readonly string[]): void {
    this.revisionCount++;
    this.unregister(n);
    n.outputs = [...outputs];
    this.register(n);
  }

  /** whether a node is still in the graph (not removed by a rewrite) */
  alive(n: WNode): boolean {
    return !this.dead.has(n);
  }

  producer(value: string): WNode | undefined {
    return this.built().producer.get(value);
  }

  /** readers of a value, one entry per input edge */
  consumers(value: string): readonly WNode[] {
    return this.built().consumers.get(value) ?? [];
  }

  /** edges leaving a value, a graph output counting as one more (ORT's "uses") */
  uses(value: string): number {
    return this.consumers(value).length + (this.outputs.has(value) ? 1 : 0);
  }

  value(name: string): WValue {
    const v = this.values.get(name);
    if (!v) throw new RangeError(`kernel detection: unknown value '${name}'`);
    return v;
  }

  shape(name: string): readonly number[] {
    return this.value(name).shape;
  }

  isConstant(name: string): boolean {
    return name !== '' && (this.values.get(name)?.constant ?? false);
  }

  /** a new value name, unique in the graph */
  fresh(prefix: string): string {
    this.revisionCount++;
    let name: string;
    do name = `${prefix}_hwlat${this.counter++}`;
    while (this.values.has(name));
    return name;
  }

  addValue(v: WValue): string {
    this.revisionCount++;
    this.values.set(v.name, v);
    return v.name;
  }

  /** a new constant (weights ORT makes while rewriting: a folded bias, a padded filter, a Reshape's shape) */
  addConstant(prefix: string, shape: readonly number[], o: { dtype?: DType; data?: readonly number[] } = {}): string {
    return this.addValue({ name: this.fresh(prefix), dtype: o.dtype ?? 'float32', shape, constant: true, ...(o.data ? { data: o.data } : {}) });
  }

  /** a new run-time value */
  addTensor(prefix: string, shape: readonly number[], dtype: DType = 'float32'): string {
    return this.addValue({ name: this.fresh(prefix), dtype, shape, constant: false });
  }

  remove(...nodes: WNode[]): void {
    this.revisionCount++;
    for (const n of nodes) {
      this.unregister(n);
      // counted once; a node never listed only costs one needless filter
      if (!this.dead.has(n)) this.deadInList++;
      this.dead.add(n);
    }
  }

  /** inserts `node` right after `after` (or first) in the node order */
  insertAfter(after: WNode | undefined, node: WNode): void {
    this.revisionCount++;
    // a live anchor sits at the same place among the live nodes whether or not removed ones are still listed
    const list = after && this.alive(after) ? this.list : this.nodes;
    const i = after ? list.indexOf(after) : -1;
    list.splice(i + 1, 0, node);
    this.register(node);
  }

  insertBefore(before: WNode, node: WNode): void {
    this.revisionCount++;
    let list = this.list;
    let i = this.alive(before) ? list.indexOf(before) : -1;
    if (i < 0) {
      // not in the graph: splice(-1) puts it before the last live node, as it always has
      list = this.nodes;
      i = list.indexOf(before);
    }
    list.splice(i, 0, node);
    this.register(node);
  }

  /** every reader of `from` reads `to` instead (graph outputs keep their names: callers check) */
  replaceUses(from: string, to: string): void {
    for (const n of new Set(this.consumers(from))) this.setInputs(n, n.inputs.map((i) => (i === from ? to : i)));
  }

  /** restores a topological order, keeping the current order where it is one (stable Kahn) */
  sort(): void {
    const nodes = this.nodes;
    const pos = new Map<WNode, number>();
    for (let i = 0; i < nodes.length; i++) pos.set(nodes[i] as WNode, i);
    // most passes keep the order topological: then stable Kahn gives it back unchanged
    if (this.ordered(nodes, pos)) return;
    const deps = new Map<WNode, number>();
    const readers = new Map<WNode, WNode[]>();
    for (const n of nodes) {
      let d = 0;
      for (const i of new Set(n.inputs)) {
        const p = i ? this.producer(i) : undefined;
        if (p && p !== n) {
          d++;
          const list = readers.get(p);
          if (list) list.push(n);
          else readers.set(p, [n]);
        }
      }
      deps.set(n, d);
    }
    // ready nodes by position: always taking the earliest keeps the current order where it can
    const ready = new MinHeap<WNode>((n) => pos.get(n) as number);
    for (const n of nodes) if (deps.get(n) === 0) ready.push(n);
    const out: WNode[] = [];
    for (let n = ready.pop(); n !== undefined; n = ready.pop()) {
      out.push(n);
      for (const r of readers.get(n) ?? []) {
        const d = (deps.get(r) as number) - 1;
        deps.set(r, d);
        if (d === 0) ready.push(r);
      }
    }
    if (out.length !== nodes.length) throw new Error('kernel detection made a cycle: a rule is wrong');
    this.nodes = out;
  }

  /** whether every node comes after the producers of its inputs */
  private ordered(nodes: readonly WNode[], pos: ReadonlyMap<WNode, number>): boolean {
    for (let k = 0; k < nodes.length; k++) {
      const n = nodes[k] as WNode;
      for (const i of n.inputs) {
        const p = i ? this.producer(i) : undefined;
        if (p && p !== n && !((pos.get(p) ?? Infinity) < k)) return false;
      }
    }
    return true;
  }
}

/** a binary min-heap by a numeric key (keys distinct: ties never arise) */
class MinHeap<T> {
  private readonly items: T[] = [];
  constructor(private readonly key: (item: T) => number) {}

  push(item: T): void {
    const a = this.items;
    a.push(item);
    let i = a.length - 1;
    const k = this.key(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.key(a[parent] as T) <= k) break;
      a[i] = a[parent] as T;
      i = parent;
    }
    a[i] = item;
  }

  pop(): T | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length === 0 || last === undefined) return top;
    const k = this.key(last);
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= a.length) break;
      if (c + 1 < a.length && this.key(a[c + 1] as T) < this.key(a[c] as T)) c++;
      if (this.key(a[c] as T) >= k) break;
      a[i] = a[c] as T;
      i = c;
    }
    a[i] = last;
    return top;
  }
}
