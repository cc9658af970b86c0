import { lookup } from '../errors.ts';
import type { IrGraph } from '../onnx/import/types.ts';
import { normaliseAttrs } from './attrs.ts';
import { WorkGraph } from './graph.ts';
import { inlineFunctions } from './passes/basic.ts';
import { IDEMPOTENT_PASSES, PASS_TRIGGERS, PASSES } from './passes/registry.ts';
import { ORT_CPU, ortCpuRules } from './rules/ort-cpu.ts';
import { ORT_WASM } from './rules/ort-wasm.ts';
import type { RuleSet } from './rules/types.ts';
import type { RuntimeKernel } from './types.ts';

/**
 * The built-in rule sets by runtime name. 'ort-cpu' is checked against ORT on this AVX-512
 * machine (NCHWc block 16); 'ort-cpu-nchwc8' is the same optimiser with AVX2's block of 8, not yet
 * checked against an AVX2 machine's optimised graphs.
 */
const ORT_CPU_NCHWC8 = ortCpuRules({ nchwcBlock: 8 });
export const RULE_SETS: Readonly<Record<string, RuleSet>> = Object.freeze({ 'ort-cpu': ORT_CPU, [ORT_CPU_NCHWC8.runtime]: ORT_CPU_NCHWC8, 'ort-wasm': ORT_WASM });

/** how often one optimisation level may repeat its passes before it must have settled */
const MAX_ROUNDS = 10;

/** Applies a rule set to a graph; returns the rewritten graph (for inspection and tests). */
export function optimise(graph: IrGraph, runtime: string | RuleSet): WorkGraph {
  const rules = typeof runtime === 'string' ? lookup(RULE_SETS, 'runtime rule set', runtime) : runtime;
  const g = new WorkGraph(graph);
  inlineFunctions(g, rules);
  // Passes known to change nothing are skipped (the result is the same; this runs per network of
  // every enumeration): a pass whose trigger ops the graph lacks, and a pass facing the very graph
  // on which it last changed nothing (or, if idempotent, which it last made). "The very graph":
  // no method-made change since (g.revision) and no pass reporting a change, as passes edit node
  // fields directly only when they report one.
  const idle = new Map<string, number>();
  let ops: Set<string> | null = null;
  for (const level of rules.levels) {
    for (let round = 0; round < MAX_ROUNDS; round++) {
      let changed = false;
      for (const name of level.passes) {
        const pass = lookup(PASSES, 'kernel detection pass', name);
        if (idle.get(name) === g.revision) continue;
        const triggers = PASS_TRIGGERS[name];
        if (triggers) {
          if (!ops) {
            ops = new Set();
            for (const n of g.nodes) ops.add(n.op);
          }
          const present = ops;
          if (!triggers.some((op) => present.has(op))) continue;
        }
        const before = g.revision;
        if (pass(g, rules)) {
          changed = true;
          g.sort();
          idle.clear();
          ops = null;
          if (IDEMPOTENT_PASSES.has(name)) idle.set(name, g.revision);
        } else if (g.revision === before) {
          idle.set(name, before);
        } else {
          // a pass may report no change yet have made some (Dropout's unread mask dropped): nothing is known any more
          idle.clear();
          ops = null;
        }
      }
      if (!changed) break;
    }
  }
  return g;
}

/**
 * Kernel detection: the kernels a runtime executes for an imported model, as the runtime names
 * them (`RuntimeKernel`), in execution order. The runtime's graph optimiser is replayed from its
 * rule set (rules/): fusions (BN, Add, Mul, Pad into Conv; Conv+activation; Conv+Add Sum inputs;
 * MatMul+Add → Gemm; GELU, SiLU), CSE, layout changes (NCHWc with its reorders). Every source
 * node is covered by one kernel, or was folded away.
 *
 * @example
 * const ir = importOnnx(readFileSync('resnet18.onnx'));
 * kernels(ir, 'ort-cpu').map((k) => k.op); // ['com.microsoft.nchwc:Conv', 'com.microsoft.nchwc:MaxPool', …]
 */
export function kernels(graph: IrGraph, runtime: string | RuleSet = 'ort-cpu'): RuntimeKernel[] {
  const rules = typeof runtime === 'string' ? lookup(RULE_SETS, 'runtime rule set', runtime) : runtime;
  const g = optimise(graph, rules);
  return g.nodes.map((n): RuntimeKernel => {
    const dropped = new Set((rules.prepacked[n.op] ?? []).filter((i) => g.isConstant(n.inputs[i] ?? '')));
    const shapeOf = (v: string) => (v ? [...g.shape(v)] : []);
    const weight = n.inputs[1] ? g.shape(n.inputs[1]) : undefined;
    return Object.freeze({
      op: n.op,
      attrs: Object.freeze(normaliseAttrs(n.op, n.attrs, weight)) as RuntimeKernel['attrs'],
      inputs: Object.freeze(n.inputs.flatMap((v, i) => (dropped.has(i) ? [] : [shapeOf(v)]))),
      outputs: Object.freeze(n.outputs.filter(Boolean).map(shapeOf)),
      nodes: Object.freeze([...new Set(n.covers)]),
    });
  });
}
