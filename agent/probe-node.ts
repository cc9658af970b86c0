import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg, platform } from 'node:os';
import type { ConditionProbe } from './probe.ts';

/** The 'cpu' line of /proc/stat: user nice system idle iowait irq softirq steal … in clock ticks. */
function procStatSteal(): { steal: number; total: number } | null {
  try {
    const line = readFileSync('/proc/stat', 'latin1').split('\n', 1)[0] ?? '';
    const f = line.trim().split(/\s+/).slice(1, 9).map(Number);
    if (f.length < 8 || f.some((x) => !Number.isFinite(x))) return null;
    return { steal: f[7] as number, total: f.reduce((a, b) => a + b, 0) };
  } catch {
    return null;
  }
}

/**
 * The Node agent's probe: process.cpuUsage() (user + system, every thread of the process, so ONNX
 * Runtime's intra-op threads too), /proc/stat's steal on Linux, os.loadavg() where the OS has one
 * (Windows reports zeros: null there).
 */
export function nodeProbe(): ConditionProbe {
  const linux = platform() === 'linux';
  const hasLoad = platform() !== 'win32';
  return {
    cpuMs: () => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1000;
    },
    steal: () => (linux ? procStatSteal() : null),
    loadAverage: () => (hasLoad ? (loadavg()[0] as number) : null),
    cores: () => availableParallelism(),
  };
}
