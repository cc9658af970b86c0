/**
 * What the operating system says about the device while the profiler measures, read where the
 * runtime can: the process's own CPU time, CPU time stolen by a hypervisor, the load average.
 * Runtime-agnostic as an interface; `nodeProbe` (probe-node.ts) reads Node's and Linux's figures,
 * a browser page has none of these (its profiler relies on the calibration, anchors and timers).
 */
export interface ConditionProbe {
  /** CPU time this process has used so far, ms (all its threads); null where unknown */
  cpuMs(): number | null;
  /** the machine's CPU time so far and the part a hypervisor stole, in any one unit; null where unknown */
  steal(): { steal: number; total: number } | null;
  /** the 1-minute load average; null where unknown */
  loadAverage(): number | null;
  /** logical cores the device has; null where unknown */
  cores(): number | null;
}

/** A probe that knows nothing: the browser's, and the default. */
export const NO_PROBE: ConditionProbe = Object.freeze({
  cpuMs: () => null,
  steal: () => null,
  loadAverage: () => null,
  cores: () => null,
});
