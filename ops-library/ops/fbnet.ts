import type { FbnetBlockSpec, FbnetCandidate, OpDef } from './types.ts';
import { assertChw, assertPositiveInt, oneOf } from './validate.ts';

/** The 9 FBNet candidates, in the order FBNet's LUT lists them. */
export const FBNET_CANDIDATES: readonly FbnetCandidate[] = Object.freeze([
  'k3_e1', 'k3_e1_g2', 'k3_e3', 'k3_e6', 'k5_e1', 'k5_e1_g2', 'k5_e3', 'k5_e6', 'skip',
]);

export interface FbnetGeometry { kernel: number; expand: number; groups: number }

/** `kK_eE[_gG]` → numbers; 'skip' → null. */
export function fbnetGeometry(block: FbnetCandidate): FbnetGeometry | null {
  if (block === 'skip') return null;
  const m = /^k(\d+)_e(\d+)(?:_g(\d+))?$/.exec(block);
  if (!m) throw new RangeError(`malformed FBNet candidate '${block}'`);
  return { kernel: Number(m[1]), expand: Number(m[2]), groups: m[3] ? Number(m[3]) : 1 };
}

/** True when an FBNet `skip` candidate is a pure identity (no layer at all). */
export function fbnetSkipIsIdentity(cin: number, cout: number, stride: number): boolean {
  return cin === cout && stride === 1;
}

export const fbnetBlock: OpDef<FbnetBlockSpec> = {
  op: 'fbnet_block',
  level: 'block',
  summary: 'FBNet candidate kK_eE[_gG] (1x1 group conv, shuffle, depthwise K×K, 1x1 group conv, residual) or skip',
  validate(s) {
    oneOf(s.block, FBNET_CANDIDATES, 'block');
    assertChw(s.input, 'input');
    assertPositiveInt(s.out, 'out');
    assertPositiveInt(s.stride, 'stride');
  },
  inputs: (s) => [s.input],
  lower(s, L, [x]) {
    const cin = s.input[0];
    const g = fbnetGeometry(s.block);
    if (g === null) {
      if (fbnetSkipIsIdentity(cin, s.out, s.stride)) return L.identity(x as number);
      return L.act(L.bn(L.conv(x as number, { cout: s.out, kernel: 1, stride: s.stride })), 'relu');
    }
    const mid = cin * g.expand;
    let y = L.act(L.bn(L.conv(x as number, { cout: mid, kernel: 1, groups: g.groups })), 'relu');
    if (g.groups > 1) y = L.channelShuffle(y, g.groups);
    y = L.act(L.bn(L.conv(y, { cout: mid, kernel: g.kernel, stride: s.stride, groups: mid })), 'relu');
    y = L.bn(L.conv(y, { cout: s.out, kernel: 1, groups: g.groups }));
    return cin === s.out && s.stride === 1 ? L.add([y, x as number]) : y;
  },
  keyPrefix: (s) => s.block,
  keyParams: (s) => [['stride', s.stride]],
  geometry(s) {
    const g = fbnetGeometry(s.block);
    return g === null ? { kernel: 1, stride: s.stride, groups: 1, expand: 0 } : { kernel: g.kernel, stride: s.stride, groups: g.groups, expand: g.expand };
  },
};
