import type { WNode, WorkGraph } from '../graph.ts';
import type { NchwcRules, RuleSet } from '../rules/types.ts';
import { attrInts, attrNum, sameShape, type Pass } from './util.ts';

const NCHWC = 'com.microsoft.nchwc';

/** a value the layout pass turned blocked: the blocked tensor that now stands for the original one */
interface Blocked {
  /** the node producing the blocked tensor (a fused Add or activation maps to its Conv) */
  node: WNode;
  value: string;
  startingUses: number;
  remainingUses: number;
  /** logical channels (the blocked tensor is zero-padded to a multiple of the block) */
  channels: number;
}

/**
 * ORT's NchwcTransformer (level 3, CPU with AVX2/AVX-512): Convs whose channels fit the block
 * run on a blocked layout [N, C/b, H, W, b] (reported as [N, C padded to b, H, W]); pools, BN (as a
 * depthwise 1×1 Conv), Add/Sum/Mul of equal shapes, channel Concats and some activations follow
 * their blocked inputs; a single-use Conv absorbs a following Add as its Sum input and a
 * following activation; ReorderInput/ReorderOutput convert at the borders, one per tensor.
 */
class NchwcPass {
  private readonly blocked = new Map<string, Blocked>();
  private readonly reorderedInputs = new Map<string, string>();
  private changed = false;

  constructor(
    private readonly g: WorkGraph,
    private readonly r: NchwcRules,
  ) {}

  private pad(c: number): number {
    return Math.ceil(c / this.r.block) * this.r.block;
  }

  run(): boolean {
    for (const node of [...this.g.nodes]) this.transform(node);
    this.finalize();
    return this.changed;
  }

  /** whether every input produced by a node is already blocked (ORT: no input edges left) */
  private allInputsReady(n: WNode): boolean {
    return n.inputs.length > 0 && n.inputs.every((i) => !i || this.g.producer(i) === undefined);
  }

  private transform(n: WNode): void {
    const op = n.op;
    if (op === 'Conv' || op === 'com.microsoft:FusedConv') return this.conv(n);
    if (op === 'MaxPool' || op === 'AveragePool') return this.pool(n, true);
    if (!this.allInputsReady(n)) return;
    if (op === 'Add' || op === 'Sum') return this.binary(n, true);
    if (op === 'Mul') return this.binary(n, false);
    if (op === 'Concat') return this.concat(n);
    if (this.r.activations.includes(op)) return this.activation(n);
    if (this.r.elementwise.includes(op)) return this.elementwise(n);
    if (op === 'BatchNormalization') return this.batchNorm(n);
    if (op === 'Transpose') return this.transpose(n);
    if (op === 'GlobalAveragePool' || op === 'GlobalMaxPool') return this.pool(n, false);
  }

  /** the node's output now lives in `producer`'s blocked output `value` */
  private create(original: WNode, producer: WNode, channels: number, shape: readonly number[]): void {
    const out = original.outputs[0] as string;
    const uses = this.g.uses(out);
    const value = this.g.addTensor(`${out}_nchwc`, shape);
    this.g.setOutputs(producer, [value, ...producer.outputs.slice(1)]);
    this.blocked.set(out, { node: producer, value, startingUses: uses, remainingUses: uses, channels });
    this.changed = true;
  }

  /** `node` is fused into `into`'s kernel: its output is that kernel's blocked output */
  private fuse(node: WNode, into: Blocked): void {
    const out = node.outputs[0] as string;
    const uses = this.g.uses(out);
    this.blocked.set(out, { node: into.node, value: into.node.outputs[0] as string, startingUses: uses, remainingUses: uses, channels: into.channels });
    into.node.covers.push(...node.covers);
    this.g.remove(node);
    this.changed = true;
  }

  /** the blocked form of input `x` of `consumer`: an existing blocked tensor, or a shared ReorderInput */
  private blockedInput(consumer: WNode, x: string): string {
    const b = this.blocked.get(x);
    if (b) {
      b.remainingUses--;
      return b.value;
    }
    let v = this.reorderedInputs.get(x);
    const t = this.g.producer(x);
    if (!v && t?.op === 'Transpose' && attrInts(t, 'perm')?.join(',') === '0,3,1,2' && !this.g.outputs.has(x) && this.g.consumers(x).every((c) => c === consumer)) {
      // NHWC → NCHW feeding a blocked kernel: one ReorderInput straight from channels-last
      const s = this.g.shape(x);
      v = this.g.addTensor(`${x}_reorder`, [s[0] as number, this.pad(s[1] as number), ...s.slice(2)]);
      this.reorderedInputs.set(x, v);
      this.g.remove(t);
      this.g.insertBefore(consumer, { name: `ReorderInput_${x}`, op: `${NCHWC}:ReorderInput`, attrs: { channels_last: 1 }, inputs: [t.inputs[0] as string], outputs: [v], covers: t.covers });
      return v;
    }
    if (!v) {
      const s = this.g.shape(x);
      v = this.g.addTensor(`${x}_reorder`, [s[0] as number, this.pad(s[1] as number), ...s.slice(2)]);
      this.reorderedInputs.set(x, v);
      this.g.insertBefore(consumer, { name: `ReorderInput_${x}`, op: `${NCHWC}:ReorderInput`, attrs: { channels_last: 0 }, inputs: [x], outputs: [v], covers: [] });
    }
    return v;
  }

  private conv(n: WNode): void {
    const g = this.g;
    const [x, w, b] = n.inputs as [string, string, string | undefined];
    if (!g.isConstant(w) || g.value(w).dtype !== 'float32' || g.shape(w).length !== 4 || n.inputs.length > 3) return;
    const [out, inC, kh, kw] = g.shape(w) as [number, number, number, number];
    const group = attrNum(n, 'group', 1);
    const { block, channelAlignment } = this.r;
    let reorderInput = true;
    let filterIn = inC;
    let nchwcGroup = group;
    if (group > 1) {
      if (out % channelAlignment !== 0) return;
      if (inC === 1 && out === group) nchwcGroup = this.pad(out);
      else if (inC % block !== 0 || out % group !== 0 || (out / group) % block !== 0) return;
    } else if (inC < block) {
      reorderInput = false;
    } else {
      if (inC % channelAlignment !== 0) return;
      filterIn = this.pad(inC);
    }
    if (b && (!g.isConstant(b) || !sameShape(g.shape(b), [out]))) return;
    const outPad = this.pad(out);
    const wShape = [outPad, filterIn, kh, kw];
    const newW = sameShape(wShape, g.shape(w)) ? w : g.addConstant(`${w}_nchwc`, wShape);
    const newB = b && outPad !== out ? g.addConstant(`${b}_nchwc`, [outPad]) : b;
    const origOut = n.outputs[0] as string;
    const node: WNode = {
      name: `${origOut}_nchwc`,
      op: `${NCHWC}:Conv`,
      attrs: { ...n.attrs, ...(nchwcGroup !== group ? { group: nchwcGroup } : {}) },
      inputs: [reorderInput ? '' : x, newW, ...(newB ? [newB] : [])],
      outputs: [origOut],
      covers: n.covers,
    };
    g.insertBefore(n, node);
    g.remove(n);
    if (reorderInput) g.setInputs(node, [this.blockedInput(node, x), ...node.inputs.slice(1)]);
    const s = g.shape(origOut);
    this.create(node, node, out, [s[0] as number, outPad, ...s.slice(2)]);
  }

  private pool(n: WNode, reorder: boolean): void {
    const g = this.g;
    if (n.outputs.filter(Boolean).length > 1) return;
    const x = n.inputs[0] as string;
    const s = g.shape(x);
    if (s.length !== 4 || g.value(x).dtype !== 'float32' || (s[1] as number) % this.r.block !== 0) return;
    if (!reorder && !this.blocked.has(x)) return;
    const origOut = n.outputs[0] as string;
    const node: WNode = { name: `${origOut}_nchwc`, op: `${NCHWC}:${n.op}`, attrs: { ...n.attrs }, inputs: [''], outputs: [origOut], covers: n.covers };
    g.insertBefore(n, node);
    g.remove(n);
    g.setInputs(node, [this.blockedInput(node, x)]);
    this.create(node, node, s[1] as number, g.shape(origOut));
  }

  private binary(n: WNode, isAdd: boolean): void {
    const g = this.g;
    const ins = n.inputs.map((i) => this.blocked.get(i));
    if (ins.some((b) => b === undefined)) {
      if (!isAdd && n.op === 'Mul') this.channelScale(n);
      return;
    }
    const args = ins as Blocked[];
    const channels = (args[0] as Blocked).channels;
    if (args.some((a) => a.channels !== channels)) return;
    const s0 = g.shape(n.inputs[0] as string);
    // static shapes: equal, and no broadcasting dimension of 1 (ORT: dims must be > 0 and equal)
    if (!n.inputs.every((i) => sameShape(g.shape(i), s0))) return;
    if (!isAdd && this.hardSwish(n, args)) return;
    g.setInputs(n, n.inputs.map((i) => this.blockedInput(n, i)));
    if (isAdd && args.length === 2) {
      for (const k of [0, 1]) {
        const a = args[k] as Blocked;
        const conv = a.node;
        if (conv.op === `${NCHWC}:Conv` && conv.inputs.length < 4 && a.startingUses === 1 && conv.attrs.activation === undefined) {
          const ins = [...conv.inputs];
          while (ins.length < 3) ins.push('');
          g.setInputs(conv, [...ins, (args[1 - k] as Blocked).node.outputs[0] as string]);
          this.fuse(n, a);
          return;
        }
      }
    }
    this.create(n, n, channels, g.shape(n.inputs[0] as string));
  }

  /** x · HardSigmoid(x; 1/6, 1/2) after a single-use blocked Conv: the Conv's HardSwish activation */
  private hardSwish(mul: WNode, args: Blocked[]): boolean {
    if (args.length !== 2 || this.g.outputs.has(mul.outputs[0] as string)) return false;
    for (const k of [0, 1]) {
      const sig = (args[k] as Blocked).node;
      const conv = (args[1 - k] as Blocked).node;
      const convArg = args[1 - k] as Blocked;
      if (sig.op !== 'HardSigmoid' || Math.abs(attrNum(sig, 'alpha', 0.2) - 1 / 6) > 1e-6 || attrNum(sig, 'beta', 0.5) !== 0.5) continue;
      if (sig.inputs[0] !== conv.outputs[0] || (args[k] as Blocked).startingUses !== 1) continue;
      if (conv.op !== `${NCHWC}:Conv` || conv.attrs.activation !== undefined || convArg.startingUses !== 2) continue;
      conv.attrs.activation = 'HardSwish';
      conv.covers.push(...sig.covers);
      this.g.remove(sig);
      // the Mul's two reads, of the Conv and of the HardSigmoid, are both absorbed
      convArg.remainingUses--;
      (args[k] as Blocked).remainingUses--;
      this.fuse(mul, convArg);
      return true;
    }
    return false;
  }

  /** a blocked tensor times a per-channel constant: a depthwise 1×1 blocked Conv */
  private channelScale(n: WNode): void {
    const g = this.g;
    const k = n.inputs.findIndex((i) => this.blocked.has(i));
    if (k < 0 || n.inputs.length !== 2) return;
    const x = n.inputs[k] as string;
    const c = n.inputs[1 - k] as string;
    const a = this.blocked.get(x) as Blocked;
    const cs = g.shape(c);
    const rank = g.shape(x).length;
    const ok = g.isConstant(c) && ((cs.length === rank && cs[0] === 1 && cs[1] === a.channels && cs.slice(2).every((d) => d === 1)) || (cs.length === rank - 1 && cs[0] === a.channels && cs.slice(1).every((d) => d === 1)));
    if (!ok || rank !== 4) return;
    const padded = this.pad(a.channels);
    const origOut = n.outputs[0] as string;
    const node: WNode = { name: `${origOut}_nchwc`, op: `${NCHWC}:Conv`, attrs: { group: padded }, inputs: [this.blockedInput(n, x), g.addConstant(`${c}_nchwc`, [padded, 1, 1, 1])], outputs: [origOut], covers: n.covers };
    g.insertBefore(n, node);
    g.remove(n);
    this.create(node, node, a.channels, g.shape(a.value));
  }

  private concat(n: WNode): void {
    const g = this.g;
    const rank = g.shape(n.outputs[0] as string).length;
    const axis = attrNum(n, 'axis', 0);
    if (axis !== 1 && axis !== 1 - rank) return;
    const args = n.inputs.map((i) => this.blocked.get(i));
    if (args.some((a) => !a || a.channels % this.r.block !== 0)) return;
    g.setInputs(n, n.inputs.map((i) => this.blockedInput(n, i)));
    const channels = (args as Blocked[]).reduce((s, a) => s + a.channels, 0);
    this.create(n, n, channels, g.shape(n.outputs[0] as string));
  }

  private activation(n: WNode): void {
    const a = this.blocked.get(n.inputs[0] as string);
    if (!a) return;
    const conv = a.node;
    if (conv.op === `${NCHWC}:Conv` && a.startingUses === 1 && conv.attrs.activation === undefined) {
      a.remainingUses--;
      conv.attrs.activation = n.op;
      this.fuse(n, a);
      return;
    }
    this.elementwise(n);
  }

  private elementwise(n: WNode): void {
    const a = this.blocked.get(n.inputs[0] as string);
    if (!a || n.inputs.filter(Boolean).length !== 1) return;
    this.g.setInputs(n, [this.blockedInput(n, n.inputs[0] as string)]);
    this.create(n, n, a.channels, this.g.shape(a.value));
  }

  private batchNorm(n: WNode): void {
    const g = this.g;
    const x = n.inputs[0] as string;
    const a = this.blocked.get(x);
    if (!a || n.outputs.filter(Boolean).length > 1 || attrNum(n, 'spatial', 1) !== 1) return;
    if (!n.inputs.slice(1, 5).every((i) => g.isConstant(i) && sameShape(g.shape(i), [a.channels]))) return;
    const padded = this.pad(a.channels);
    const origOut = n.outputs[0] as string;
    const node: WNode = {
      name: `${origOut}_bn_nchwc`, op: `${NCHWC}:Conv`, attrs: { group: padded },
      inputs: [this.blockedInput(n, x), g.addConstant('bn_scale', [padded, 1, 1, 1]), g.addConstant('bn_B', [padded])],
      outputs: [origOut], covers: n.covers,
    };
    g.insertBefore(n, node);
    g.remove(n);
    this.create(node, node, a.channels, g.shape(a.value));
  }

  /** NCHW → NHWC of a blocked tensor: a ReorderOutput straight to channels-last */
  private transpose(n: WNode): void {
    const a = this.blocked.get(n.inputs[0] as string);
    const perm = attrInts(n, 'perm');
    if (!a || !perm || perm.join(',') !== '0,2,3,1') return;
    n.op = `${NCHWC}:ReorderOutput`;
    n.attrs = { channels: a.channels, channels_last: 1 };
    this.g.setInputs(n, [this.blockedInput(n, n.inputs[0] as string)]);
    this.changed = true;
  }

  private finalize(): void {
    for (const [original, a] of this.blocked) {
      if (a.remainingUses <= 0) continue;
      this.g.insertAfter(a.node, {
        name: `ReorderOutput_${original}`, op: `${NCHWC}:ReorderOutput`, attrs: { channels: a.channels, channels_last: 0 },
        inputs: [a.value], outputs: [original], covers: [],
      });
      this.changed = true;
    }
  }
}

export const nchwc: Pass = (g, rules: RuleSet) => {
  if (!rules.nchwc) return false;
  return new NchwcPass(g, rules.nchwc).run();
};
