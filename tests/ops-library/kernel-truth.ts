import { normaliseAttrs } from '../../ops-library/kernels/index.ts';
import type { RuntimeKernel, TimedKernel } from '../../ops-library/kernels/types.ts';

/**
 * Compares detected kernels with what the runtime really ran (agent/backends/ort-kernels.ts:
 * the profiler's nodes joined to ORT's optimised graph), node for node: same op, same input and
 * output shapes, same attributes once defaults are filled on both sides. Order is free (ORT's
 * execution order is one of many topological orders). `attrs` limits the attributes compared
 * (wasm has no optimised graph, so only the source's geometry is known there); a kernel the
 * runtime left unnamed (an inlined function body) cannot be joined to its attributes and is
 * compared without them (the profiler calls it `<Op>_<index>`, the optimised graph leaves its
 * name empty, so the join finds neither its attributes nor its source nodes).
 */
export function kernelDiff(
  detected: readonly RuntimeKernel[],
  truth: readonly TimedKernel[],
  o: { attrs?: readonly string[] } = {},
): { missing: string[]; extra: string[] } {
  const attrText = (k: RuntimeKernel, keep: (name: string) => boolean) => {
    const a = normaliseAttrs(k.op, k.attrs, k.inputs[1]);
    return Object.keys(a).filter(keep).sort().map((n) => `${n}=${JSON.stringify(a[n])}`).join(' ');
  };
  const shapes = (k: RuntimeKernel) => `${JSON.stringify(k.inputs)}->${JSON.stringify(k.outputs)}`;
  const left = detected.map((k) => ({ k, used: false }));
  const missing: string[] = [];
  for (const t of truth) {
    const known = Object.keys(t.attrs).length > 0 || t.nodes.length > 0;
    const keep = (n: string) => known && n !== 'auto_pad' && (!o.attrs || o.attrs.includes(n)) && (t.attrs[n] !== undefined || !o.attrs);
    const want = `${t.op} ${attrText(t, keep)} ${shapes(t)}`;
    const hit = left.find((d) => !d.used && `${d.k.op} ${attrText(d.k, keep)} ${shapes(d.k)}` === want);
    if (hit) hit.used = true;
    else missing.push(want);
  }
  const extra = left.filter((d) => !d.used).map((d) => `${d.k.op} ${attrText(d.k, (n) => n !== 'auto_pad')} ${shapes(d.k)}`);
  return { missing, extra };
}

/** every node of the source graph is covered by exactly one kernel (what a per-kernel breakdown relies on) */
export function coverageErrors(sourceNodes: readonly string[], detected: readonly RuntimeKernel[]): string[] {
  const covered = detected.flatMap((k) => k.nodes);
  const twice = covered.filter((n, i) => covered.indexOf(n) !== i);
  const all = new Set(covered);
  return [...twice.map((n) => `covered twice: ${n}`), ...sourceNodes.filter((n) => !all.has(n)).map((n) => `not covered: ${n}`)];
}

/** a readable failure message: what the runtime ran that detection missed, and what it made up */
export function describeDiff(label: string, d: { missing: string[]; extra: string[] }): string {
  return [`${label}: ${d.missing.length} kernels ORT ran were not detected, ${d.extra.length} detected were not run`, ...d.missing.slice(0, 8).map((s) => `  ORT ran:   ${s}`), ...d.extra.slice(0, 8).map((s) => `  detected:  ${s}`)].join('\n');
}
