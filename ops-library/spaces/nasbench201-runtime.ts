import { NB201_EDGE_ENDS } from '../ops/nasbench201.ts';
import type { Nb201Edge } from '../ops/types.ts';

/**
 * What ONNX Runtime's CPU graph optimiser (ORT 1.30, level 'all') makes of a NAS-Bench-201
 * network: the kernels it really runs. Measured per network, the cost of a cell is not the sum of
 * its edge ops; it depends on how the edges combine:
 *
 * - common-subexpression elimination: pools, ReLUs, zeros and Adds of the same values run once
 *   (a skip edge makes a node the very value it reads, so this reaches across cells);
 * - a Conv whose only reader is a ReLU takes it as its activation; BN folds into the Conv;
 * - the NCHWc layout pass: Conv and AveragePool run blocked (NCHWc); ReLU and Add stay in the
 *   layout of their inputs; an Add of two blocked values whose one input is a Conv read by nothing
 *   else becomes that Conv's Sum input (accumulated in place), and the ReLU after it its
 *   activation; the zero of an all-`none` node (Mul by 0) runs in plain NCHW, so its readers pay
 *   ReorderInput/ReorderOutput conversions and Adds that touch it stay unfused;
 * - the head's BN on a blocked value becomes a blocked depthwise 1×1 Conv with the ReLU fused.
 *
 * The rules were read off ORT's optimised graphs (`optimizedModelFilePath`) and are checked
 * against them in tests/ops-library/nb201-runtime.test.ts.
 */
export interface Nb201Kernel {
  kind: 'conv' | 'dwconv' | 'bn' | 'relu' | 'add' | 'zero' | 'pool' | 'gap' | 'reorder_in' | 'reorder_out';
  stage: number;
  /** outside the cells (stem, reductions, head): what the space's fixed units already hold */
  fixed: boolean;
  /** conv and pool */
  kernel?: number;
  stride?: number;
  /** a Conv's fused activation and Sum input */
  act?: boolean;
  sum?: boolean;
}

type Layout = 'nchwc' | 'nchw';
type Op = 'input' | 'conv' | 'relu' | 'pool' | 'zero' | 'add' | 'bn' | 'gap' | 'flatten';

/** a value-producing node of the simulated graph: a kernel's fields, plus its inputs and layout */
interface Node extends Omit<Nb201Kernel, 'kind'> {
  op: Op;
  inputs: number[];
  /** the value this node's output now is (a fused Add or ReLU reads as its Conv) */
  alias?: number;
  layout?: Layout;
}

/**
 * The kernels ORT runs for a NAS-Bench-201 network: the cell repeated over `stages` stages of
 * `cells` cells, with the stem, the reductions and the head around them (flagged `fixed`).
 */
export function nb201RuntimeKernels(edges: readonly Nb201Edge[], o: { stages?: number; cells?: number } = {}): Nb201Kernel[] {
  const stages = o.stages ?? 3;
  const cells = o.cells ?? 5;
  const nodes: Node[] = [];
  const memo = new Map<string, number>();
  let fixed = true;
  let stage = 0;
  // CSE: a node of the same op and inputs is the one made first (Convs carry weights: never)
  const node = (op: Op, inputs: number[], extra: Partial<Node> = {}): number => {
    const key = op === 'conv' || op === 'bn' ? null : `${op}:${extra.kernel ?? ''}(${inputs.join(',')})`;
    const hit = key === null ? undefined : memo.get(key);
    if (hit !== undefined) return hit;
    nodes.push({ op, inputs, stage, fixed, ...extra });
    if (key !== null) memo.set(key, nodes.length - 1);
    return nodes.length - 1;
  };
  const conv = (x: number, kernel: number, stride = 1) => node('conv', [x], { kernel, stride, act: false, sum: false });
  const relu = (x: number) => node('relu', [x]);
  // the stem: a Conv (BN folded), no activation
  let x = conv(node('input', []), 3);
  for (let s = 0; s < stages; s++) {
    stage = s;
    fixed = false;
    for (let c = 0; c < cells; c++) {
      const vals = [x];
      for (let j = 1; j <= 3; j++) {
        const terms: number[] = [];
        NB201_EDGE_ENDS.forEach(([from, to], i) => {
          const edge = edges[i] as Nb201Edge;
          if (to !== j || edge === 'none') return;
          const src = vals[from] as number;
          if (edge === 'skip_connect') terms.push(src);
          else if (edge === 'avg_pool_3x3') terms.push(node('pool', [src], { kernel: 3, stride: 1 }));
          else terms.push(conv(relu(src), edge === 'nor_conv_1x1' ? 1 : 3));
        });
        // an all-`none` node is the lowering's Mul(cell input, 0)
        let acc = terms.length === 0 ? node('zero', [x]) : (terms[0] as number);
        for (const t of terms.slice(1)) acc = node('add', [acc, t]);
        vals.push(acc);
      }
      x = vals[3] as number;
    }
    fixed = true;
    if (s < stages - 1) {
      // the reduction (ops/nasbench201.ts): ReLU → Conv s2 → ReLU → Conv; AvgPool 2×2 → Conv 1×1; Add
      const r = relu(x);
      stage = s + 1;
      const b = conv(relu(conv(r, 3, 2)), 3);
      const short = conv(node('pool', [x], { kernel: 2, stride: 2 }), 1);
      x = node('add', [short, b]);
    }
  }
  // the head: BN → ReLU → global average pool → flatten → linear
  node('flatten', [node('gap', [relu(node('bn', [x]))])]);

  // readers of each value (add(v, v) reads v twice)
  const uses = new Array<number>(nodes.length).fill(0);
  for (const n of nodes) for (const i of n.inputs) uses[i] = (uses[i] as number) + 1;
  const resolve = (v: number): number => {
    let u = v;
    while (nodes[u]?.alias !== undefined) u = nodes[u]?.alias as number;
    return u;
  };
  const at = (v: number) => nodes[v] as Node;
  // BN folds into a Conv read by it alone (ORT level 1, before the layout pass)
  for (let v = 0; v < nodes.length; v++) {
    const n = at(v);
    const src = n.inputs[0] as number;
    if (n.op === 'bn' && at(src).op === 'conv' && uses[src] === 1) n.alias = src;
  }
  // the NCHWc pass, in topological (creation) order
  for (let v = 0; v < nodes.length; v++) {
    const n = at(v);
    if (n.alias !== undefined) {
      uses[n.alias] = uses[v] as number;
      continue;
    }
    const inLayout = (i: number) => at(resolve(n.inputs[i] as number)).layout ?? 'nchw';
    switch (n.op) {
      case 'conv':
      case 'pool':
        n.layout = 'nchwc';
        break;
      case 'input':
      case 'zero':
      case 'flatten':
        n.layout = 'nchw';
        break;
      case 'gap':
      case 'bn':
        // a blocked BN runs as a depthwise NCHWc Conv, which a ReLU can fuse into
        n.layout = inLayout(0);
        break;
      case 'relu': {
        n.layout = inLayout(0);
        const raw = n.inputs[0] as number;
        const p = at(resolve(raw));
        if (uses[raw] === 1 && !p.act && (p.op === 'conv' || (p.op === 'bn' && p.layout === 'nchwc'))) {
          p.act = true;
          n.alias = resolve(raw);
        }
        break;
      }
      case 'add': {
        const blocked = inLayout(0) === 'nchwc' && inLayout(1) === 'nchwc';
        n.layout = blocked ? 'nchwc' : 'nchw';
        if (!blocked) break;
        // the Add becomes the Sum input of a Conv that nothing else reads
        for (const raw of n.inputs) {
          const p = at(resolve(raw));
          if (p.op === 'conv' && !p.sum && !p.act && uses[raw] === 1) {
            p.sum = true;
            n.alias = resolve(raw);
            break;
          }
        }
        break;
      }
    }
    if (n.alias !== undefined) uses[n.alias] = uses[v] as number;
  }

  const kernels: Nb201Kernel[] = [];
  const reorderOut = new Set<number>();
  const reorderIn = new Set<number>();
  for (let v = 0; v < nodes.length; v++) {
    const n = at(v);
    if (n.alias !== undefined || n.op === 'input') continue;
    const blockedReader = n.op === 'conv' || n.op === 'pool';
    for (const raw of n.inputs) {
      const src = resolve(raw);
      const l = at(src).layout;
      // the stem reads the 3-channel image directly (ORT reorders its filter instead)
      if (blockedReader && l === 'nchw' && at(src).op !== 'input') reorderIn.add(src);
      if (!blockedReader && n.layout === 'nchw' && l === 'nchwc') reorderOut.add(src);
    }
    if (n.op === 'flatten') continue;
    const kind = n.op === 'bn' && n.layout === 'nchwc' ? 'dwconv' : n.op;
    kernels.push({
      kind, stage: n.stage, fixed: n.fixed,
      ...(n.kernel !== undefined ? { kernel: n.kernel, stride: n.stride ?? 1 } : {}),
      ...(n.op === 'conv' || kind === 'dwconv' ? { act: Boolean(n.act), sum: Boolean(n.sum) } : {}),
    } as Nb201Kernel);
  }
  for (const v of reorderIn) kernels.push({ kind: 'reorder_in', stage: at(v).stage, fixed: at(v).fixed });
  for (const v of reorderOut) kernels.push({ kind: 'reorder_out', stage: at(v).stage, fixed: at(v).fixed });
  return kernels;
}
