import type { Lowering } from '../prim-graph.ts';
import type { Nb201CellSpec, Nb201Edge, Nb201HeadSpec, Nb201OpSpec, Nb201ReductionSpec, OpDef } from './types.ts';
import { assertChw, assertPositiveInt, oneOf } from './validate.ts';

export const NB201_EDGES: readonly Nb201Edge[] = Object.freeze(['none', 'skip_connect', 'nor_conv_1x1', 'nor_conv_3x3', 'avg_pool_3x3']);

/** Edge (i → j) of each position in a cell's edge list: 1←0, 2←0, 2←1, 3←0, 3←1, 3←2. */
export const NB201_EDGE_ENDS: ReadonlyArray<readonly [from: number, to: number]> = Object.freeze([
  [0, 1], [0, 2], [1, 2], [0, 3], [1, 3], [2, 3],
]);

/** One edge op applied to value x; null for `none` (the edge contributes nothing). */
function lowerEdge(edge: Nb201Edge, L: Lowering, x: number): number | null {
  switch (edge) {
    case 'none':
      return null;
    case 'skip_connect':
      return x;
    case 'nor_conv_1x1':
    case 'nor_conv_3x3': {
      const k = edge === 'nor_conv_1x1' ? 1 : 3;
      return L.bn(L.conv(L.act(x, 'relu'), { cout: L.channels(x), kernel: k }));
    }
    case 'avg_pool_3x3':
      return L.pool(x, 'avgpool', { kernel: 3, stride: 1, padding: 1, countIncludePad: false });
  }
}

export const nb201Op: OpDef<Nb201OpSpec> = {
  op: 'nb201_op',
  level: 'op',
  summary: 'NAS-Bench-201 cell edge op: nor_conv_1x1/3x3 (ReLU-Conv-BN), avg_pool_3x3, skip_connect, none',
  validate(s) {
    oneOf(s.edge, NB201_EDGES, 'edge');
    assertChw(s.input, 'input');
  },
  inputs: (s) => [s.input],
  lower(s, L, [x]) {
    const y = lowerEdge(s.edge, L, x as number);
    if (y === null) return L.zero(x as number);
    return y === x ? L.identity(x as number) : y;
  },
  keyPrefix: (s) => s.edge,
  keyParams: () => [],
  geometry: (s) => ({ kernel: s.edge === 'nor_conv_3x3' || s.edge === 'avg_pool_3x3' ? 3 : s.edge === 'nor_conv_1x1' ? 1 : 0, stride: 1, groups: 1, expand: 0 }),
};

export function formatNb201Cell(edges: readonly Nb201Edge[]): string {
  const e = (i: number) => `${edges[i]}~${NB201_EDGE_ENDS[i]?.[0]}`;
  return `|${e(0)}|+|${e(1)}|${e(2)}|+|${e(3)}|${e(4)}|${e(5)}|`;
}

export const nb201Cell: OpDef<Nb201CellSpec> = {
  op: 'nb201_cell',
  level: 'block',
  summary: 'NAS-Bench-201 cell: 4 nodes, node j = Σ_{i<j} op(node i), 6 edges',
  validate(s) {
    assertChw(s.input, 'input');
    if (!Array.isArray(s.edges) || s.edges.length !== 6) throw new TypeError(`'edges' must list 6 edge ops, got ${JSON.stringify(s.edges)}`);
    s.edges.forEach((e, i) => oneOf(e, NB201_EDGES, `edges[${i}]`));
  },
  inputs: (s) => [s.input],
  lower(s, L, [x]) {
    const nodes: number[] = [x as number];
    for (let j = 1; j <= 3; j++) {
      const terms: number[] = [];
      NB201_EDGE_ENDS.forEach(([from, to], i) => {
        if (to !== j) return;
        const y = lowerEdge(s.edges[i] as Nb201Edge, L, nodes[from] as number);
        if (y !== null) terms.push(y);
      });
      // a node with only `none` inputs is a zero tensor, as NAS-Bench-201's Zero op computes
      nodes.push(terms.length === 0 ? L.zero(x as number) : L.add(terms));
    }
    const out = nodes[3] as number;
    return out === x ? L.identity(out) : out;
  },
  keyPrefix: () => 'nb201_cell',
  keyParams: (s) => [['cell', formatNb201Cell(s.edges)]],
  geometry: () => ({ kernel: 0, stride: 1, groups: 1, expand: 0 }),
};

export const nb201Reduction: OpDef<Nb201ReductionSpec> = {
  op: 'nb201_reduction',
  level: 'block',
  summary: 'NAS-Bench-201 residual reduction block (stride 2, AvgPool + 1x1 conv shortcut)',
  validate(s) {
    assertChw(s.input, 'input');
    assertPositiveInt(s.out, 'out');
  },
  inputs: (s) => [s.input],
  lower(s, L, [x]) {
    const a = L.bn(L.conv(L.act(x as number, 'relu'), { cout: s.out, kernel: 3, stride: 2 }));
    const b = L.bn(L.conv(L.act(a, 'relu'), { cout: s.out, kernel: 3 }));
    const short = L.conv(L.pool(x as number, 'avgpool', { kernel: 2, stride: 2, padding: 0 }), { cout: s.out, kernel: 1 });
    return L.add([short, b]);
  },
  keyPrefix: () => 'nb201_reduction',
  keyParams: () => [],
  geometry: () => ({ kernel: 3, stride: 2, groups: 1, expand: 0 }),
};

export const nb201Head: OpDef<Nb201HeadSpec> = {
  op: 'nb201_head',
  level: 'block',
  summary: 'NAS-Bench-201 head: BN → ReLU → global average pool → linear',
  validate(s) {
    assertChw(s.input, 'input');
    assertPositiveInt(s.classes, 'classes');
  },
  inputs: (s) => [s.input],
  lower: (s, L, [x]) => L.linear(L.flatten(L.globalAvgPool(L.act(L.bn(x as number), 'relu'))), { out: s.classes }),
  keyPrefix: () => 'nb201_head',
  keyParams: () => [],
  geometry: () => ({ kernel: 0, stride: 0, groups: 0, expand: 0 }),
};
