import { ArchParseError } from '../errors.ts';
import type { Layer } from '../graph.ts';
import { formatNb201Cell, NB201_EDGE_ENDS, NB201_EDGES } from '../ops/nasbench201.ts';
import type { Nb201Edge, OpSpec } from '../ops/types.ts';
import type { Chw } from '../shape.ts';
import { defineSpace } from './define.ts';
import { nb201RuntimeKernels } from './nasbench201-runtime.ts';
import type { Position } from './types.ts';

const C = 16;
const CELLS_PER_STAGE = 5;
const STAGES: readonly Chw[] = [[C, 32, 32], [2 * C, 16, 16], [4 * C, 8, 8]];
const SPACE = 'nasbench201';
const INPUT: Chw = [3, 32, 32];

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
const reluUnit = (input: Chw): OpSpec => ({ op: 'relu', input });
const poolUnit = (input: Chw): OpSpec => ({ op: 'nb201_op', edge: 'avg_pool_3x3', input });
const convUnit = (input: Chw, kernel: number, act: boolean, sum: boolean): OpSpec => ({
  op: 'conv_bn_act', input, out: input[0], kernel, act: act ? 'relu' : 'none', ...(sum ? { residual: true } : {}),
});
// every form an edge convolution takes at run time: with or without a fused ReLU and Sum input
const convForms = (input: Chw): OpSpec[] => [1, 3].flatMap((k) => [false, true].flatMap((act) => [false, true].map((sum) => convUnit(input, k, act, sum))));

/** The network's layers: the stem, 3 stages of 5 cells with a reduction between, the head. */
function nb201Layers(edges: readonly Nb201Edge[]): Layer[] {
  const layers: Layer[] = [{ name: 'stem', spec: stem }];
  STAGES.forEach((input, s) => {
    for (let i = 0; i < CELLS_PER_STAGE; i++) layers.push({ name: `cell${s * CELLS_PER_STAGE + i}`, spec: { op: 'nb201_cell', input, edges: [...edges] } });
    const red = reductions[s];
    if (red) layers.push({ name: `reduction${s}`, spec: red });
  });
  layers.push({ name: 'head', spec: head });
  return layers;
}

/**
 * The LUT units of a network's cells as ONNX Runtime runs them (nasbench201-runtime.ts): each
 * distinct ReLU, pool, zero and Add once, unless fused; each edge convolution in the form the
 * optimiser gave it (its ReLU input is a separate unit, shared by the convolutions reading one
 * node; a ReLU or an Add after it may be fused into it). Layout reorders are not units: they are
 * ORT-internal; the network-level correction absorbs them.
 */
export function nb201CellUnits(edges: readonly Nb201Edge[]): OpSpec[][] {
  const stages = STAGES.map((): OpSpec[] => []);
  for (const k of nb201RuntimeKernels(nb201Layers(edges), INPUT)) {
    const input = STAGES[k.stage] as Chw;
    const units = stages[k.stage] as OpSpec[];
    if (k.fixed) continue;
    if (k.kind === 'conv') units.push(convUnit(input, k.kernel as number, Boolean(k.act), Boolean(k.sum)));
    else if (k.kind === 'relu') units.push(reluUnit(input));
    else if (k.kind === 'add') units.push(addUnit(input));
    else if (k.kind === 'zero') units.push(zeroUnit(input));
    else if (k.kind === 'pool') units.push(poolUnit(input));
  }
  return stages;
}

/**
 * NAS-Bench-201 on CIFAR (C = 16, N = 5), arch strings as `|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`.
 * Classes default to 10, the CIFAR-10 network of the shared HELP latency data.
 */
export const nasbench201 = defineSpace({
  name: SPACE,
  summary: 'NAS-Bench-201 CIFAR cell network (C=16, N=5): 6 edges × 5 ops, 15,625 cells',
  input: INPUT,
  classes: 10,
  positions,
  fixedUnits: [stem, ...reductions, head],
  // the anchor network (SpaceDefinition.anchor): the one of the anchor-normalisation experiment
  anchor: '|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_3x3~1|nor_conv_1x1~2|',
  structuralUnits: STAGES.flatMap((input) => [zeroUnit(input), addUnit(input), reluUnit(input), ...convForms(input)]),
  units(choices) {
    const cells = nb201CellUnits(choices as Nb201Edge[]);
    return [stem, ...cells.flatMap((units, s) => [...units, ...(reductions[s] ? [reductions[s] as OpSpec] : [])]), head];
  },
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
  layers: (choices) => nb201Layers(choices as Nb201Edge[]),
});
