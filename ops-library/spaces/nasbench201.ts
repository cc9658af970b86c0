import { ArchParseError } from '../errors.ts';
import type { Layer } from '../graph.ts';
import { formatNb201Cell, NB201_EDGE_ENDS, NB201_EDGES } from '../ops/nasbench201.ts';
import type { Nb201Edge, OpSpec } from '../ops/types.ts';
import type { Chw } from '../shape.ts';
import { defineSpace } from './define.ts';
import type { Position } from './types.ts';

const C = 16;
const CELLS_PER_STAGE = 5;
const STAGES: readonly Chw[] = [[C, 32, 32], [2 * C, 16, 16], [4 * C, 8, 8]];
const SPACE = 'nasbench201';

const stem: OpSpec = { op: 'conv_bn_act', input: [3, 32, 32], out: C, kernel: 3, act: 'none' };
const reductions: OpSpec[] = [
  { op: 'nb201_reduction', input: STAGES[0] as Chw, out: 2 * C },
  { op: 'nb201_reduction', input: STAGES[1] as Chw, out: 4 * C },
];
const head: OpSpec = { op: 'nb201_head', input: STAGES[2] as Chw, classes: 10 };

// an edge choice is the same op in all 15 cells: its LUT units are that op at each stage's shape
const positions: Position[] = NB201_EDGE_ENDS.map(([from, to]) => ({
  name: `edge${to}<-${from}`,
  choices: NB201_EDGES.map((edge) => ({
    name: edge,
    units:
      edge === 'none' || edge === 'skip_connect'
        ? []
        : STAGES.flatMap((input) => Array.from({ length: CELLS_PER_STAGE }, (): OpSpec => ({ op: 'nb201_op', edge, input }))),
  })),
}));

const zeroUnit = (input: Chw): OpSpec => ({ op: 'nb201_op', edge: 'none', input });
const addUnit = (input: Chw): OpSpec => ({ op: 'add', input });

/**
 * What ONNX Runtime really executes for the cells of one stage: every conv edge (a node nobody
 * reads is still computed: measured, ORT 1.30 does not prune it), the Adds that sum a node's
 * incoming terms, a Mul by 0 for a node whose inputs are all `none` — once each distinct
 * computation. ORT's common-subexpression elimination merges nodes with the same op and the same
 * inputs, and a skip edge makes a node the very value it reads: in
 * `|skip_connect~0|+|avg_pool_3x3~0|avg_pool_3x3~1|+…` the three pools of x and of node 1 (= x) run
 * as one (ORT's optimised graph: 17 AveragePool nodes of 47), the Mul-by-0 of every all-`none`
 * node of a cell is one, and a cell whose output is its input (node 3 = skip of node 0) hands the
 * same value to the next cell, whose pools and zeros then merge with this one's. Convolutions carry
 * their own weights and never merge. Values are numbered symbolically over the stage's cells.
 */
export function nb201StageUnits(edges: readonly Nb201Edge[], input: Chw, cells: number = CELLS_PER_STAGE): OpSpec[] {
  const units: OpSpec[] = [];
  const computed = new Set<string>();
  // a computation by its op and input values: emitted (and named) the first time only
  const once = (key: string, unit: () => OpSpec): string => {
    if (!computed.has(key)) {
      computed.add(key);
      units.push(unit());
    }
    return key;
  };
  let convs = 0;
  let x = 'in';
  for (let c = 0; c < cells; c++) {
    const nodes = [x];
    for (let j = 1; j <= 3; j++) {
      const terms: string[] = [];
      NB201_EDGE_ENDS.forEach(([from, to], i) => {
        const edge = edges[i] as Nb201Edge;
        if (to !== j || edge === 'none') return;
        const src = nodes[from] as string;
        if (edge === 'skip_connect') terms.push(src);
        else if (edge === 'avg_pool_3x3') terms.push(once(`pool(${src})`, () => ({ op: 'nb201_op', edge, input })));
        else {
          units.push({ op: 'nb201_op', edge, input });
          terms.push(`conv${convs++}`);
        }
      });
      if (terms.length === 0) {
        // the lowering's zero is Mul(cell input, 0)
        nodes.push(once(`zero(${x})`, () => zeroUnit(input)));
        continue;
      }
      // n-ary sums are chains of binary Adds (prim.ts)
      let acc = terms[0] as string;
      for (const t of terms.slice(1)) acc = once(`add(${acc},${t})`, () => addUnit(input));
      nodes.push(acc);
    }
    x = nodes[3] as string;
  }
  return units;
}

/**
 * NAS-Bench-201 on CIFAR (C = 16, N = 5), arch strings as `|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`.
 * Classes default to 10, the CIFAR-10 network of the shared HELP latency data.
 */
export const nasbench201 = defineSpace({
  name: SPACE,
  summary: 'NAS-Bench-201 CIFAR cell network (C=16, N=5): 6 edges × 5 ops, 15,625 cells',
  input: [3, 32, 32],
  classes: 10,
  positions,
  fixedUnits: [stem, ...reductions, head],
  structuralUnits: STAGES.flatMap((input) => [zeroUnit(input), addUnit(input)]),
  units: (choices) => [
    stem,
    ...STAGES.flatMap((input, s) => [
      ...nb201StageUnits(choices as Nb201Edge[], input),
      ...(reductions[s] ? [reductions[s] as OpSpec] : []),
    ]),
    head,
  ],
  split(arch) {
    const groups = arch.split('+');
    if (groups.length !== 3) throw new ArchParseError(SPACE, arch, `expected 3 node groups joined by '+', got ${groups.length}`);
    const tokens: string[] = [];
    groups.forEach((group, g) => {
      const m = /^\|(.*)\|$/.exec(group);
      if (!m) throw new ArchParseError(SPACE, arch, `node group ${g + 1} '${group}' must be wrapped in '|'`);
      const edges = (m[1] as string).split('|');
      if (edges.length !== g + 1) throw new ArchParseError(SPACE, arch, `node ${g + 1} needs ${g + 1} inputs, got ${edges.length}`);
      edges.forEach((e, i) => {
        const [op, from, ...rest] = e.split('~');
        if (rest.length > 0 || from !== String(i) || op === undefined) {
          throw new ArchParseError(SPACE, arch, `edge '${e}' of node ${g + 1} must be 'op~${i}'`);
        }
        tokens.push(op);
      });
    });
    return tokens;
  },
  join: (choices) => formatNb201Cell(choices as Nb201Edge[]),
  layers(choices) {
    const edges = choices as Nb201Edge[];
    const layers: Layer[] = [{ name: 'stem', spec: stem }];
    STAGES.forEach((input, s) => {
      for (let i = 0; i < CELLS_PER_STAGE; i++) layers.push({ name: `cell${s * CELLS_PER_STAGE + i}`, spec: { op: 'nb201_cell', input, edges } });
      const red = reductions[s];
      if (red) layers.push({ name: `reduction${s}`, spec: red });
    });
    layers.push({ name: 'head', spec: head });
    return layers;
  },
});
