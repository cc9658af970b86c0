import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The shared data folder beside the clone (../shared/data); CI has it, a bare clone may not. */
export const SHARED_DATA = fileURLToPath(new URL('../../../shared/data/', import.meta.url));

/** Reads `arch_id,arch` rows from a shared HELP file, or returns null when the data is absent. */
export function readHelpArchs(space: 'fbnet' | 'nasbench201'): Array<{ id: string; arch: string }> | null {
  const path = `${SHARED_DATA}help-latency/${space}/archs.csv`;
  if (!existsSync(path)) return null;
  const lines = readFileSync(path, 'utf8').trim().split('\n').slice(1);
  return lines.map((line) => {
    const comma = line.indexOf(',');
    return { id: line.slice(0, comma), arch: line.slice(comma + 1).trim() };
  });
}
