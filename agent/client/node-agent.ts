import { join } from 'node:path';
import { kernelProfilerFor } from '../backends/kernel-profilers.ts';
import { nodeProbe } from '../probe-node.ts';
import { Outbox } from '../transport/outbox.ts';
import type { ResultOutbox } from '../transport/outbox-types.ts';
import { runAgentLoop, type AgentLoopOptions, type AgentSummary } from './loop.ts';

// The loop itself lives in loop.ts (no Node imports) so the browser page runs the same code;
// this file adds what the Node agent keeps on disk.
export { runAgentLoop, type AgentLoopOptions, type AgentSummary } from './loop.ts';

export interface RunAgentOptions extends Omit<AgentLoopOptions, 'outbox'> {
  /** folder for the agent's durable state (the outbox lives in `<stateDir>/outbox`) */
  stateDir: string;
  /** the outbox; default: the on-disk Outbox in `<stateDir>/outbox` */
  outbox?: ResultOutbox;
}

/**
 * The Node device agent: runAgentLoop with a durable on-disk outbox in `<stateDir>/outbox`.
 * Connects to the collector, leases jobs, measures each lease as one interleaved group and sends
 * one result per job; runs until `signal` aborts (resolves with a summary after a clean stop) or the
 * collector refuses the agent (rejects with CollectorRefusedError). See runAgentLoop.
 *
 * @example
 * const backend = await createBackend('ort-node', { threads: 1 });
 * const device = await fingerprint(backend.info);
 * const ctl = new AbortController();
 * process.once('SIGINT', () => ctl.abort());
 * await runAgent({ collector: 'ws://127.0.0.1:7070/agent', token, backend, device, stateDir: '.hwlat/agent', signal: ctl.signal });
 */
export async function runAgent(options: RunAgentOptions): Promise<AgentSummary> {
  if (typeof options?.stateDir !== 'string' || options.stateDir.length === 0) throw new TypeError(`'stateDir' must be a non-empty folder path`);
  const log = options.log ?? (() => {});
  const outbox =
    options.outbox ??
    new Outbox(join(options.stateDir, 'outbox'), { onCorrupt: (file, e) => log({ event: 'outbox_corrupt', file, message: e.message }) });
  const { stateDir: _stateDir, ...rest } = options;
  // the Node agent can profile kernels on onnxruntime-node and on onnxruntime-web's wasm
  const kernelProfiler = kernelProfilerFor(options.backend.info) ?? undefined;
  return runAgentLoop({ probe: nodeProbe(), ...(kernelProfiler ? { kernelProfiler } : {}), ...rest, outbox });
}
