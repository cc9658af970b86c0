/** FNV-1a hash of a string, for deterministic splits that do not depend on row order. */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** True for about `share` of all arch strings, the same ones every time. */
export function inHoldout(arch: string, share: number, salt = ''): boolean {
  return (hash32(`${salt}${arch}`) % 10_000) / 10_000 < share;
}
