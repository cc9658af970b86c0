import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** One local agent of the demo: a backend spec ('ort-node:cpu') and its intra-op threads. */
export interface DemoAgentSpec {
  backend: string;
  threads: number;
}

/** The demo's default fleet: onnxruntime-node with 1 and 2 threads, and onnxruntime-web's wasm. */
export const DEFAULT_DEMO_AGENTS: readonly DemoAgentSpec[] = Object.freeze([
  { backend: 'ort-node:cpu', threads: 1 },
  { backend: 'ort-node:cpu', threads: 2 },
  { backend: 'ort-web:wasm', threads: 1 },
]);

/**
 * Parses `--agents 'ort-node:cpu@1,ort-node:cpu@2,ort-web:wasm@1'` (threads after '@', default 1).
 *
 * @example
 * parseDemoAgents('ort-node:cpu@2'); // [{ backend: 'ort-node:cpu', threads: 2 }]
 */
export function parseDemoAgents(text: string): DemoAgentSpec[] {
  const specs = text.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (specs.length === 0) throw new RangeError(`'--agents' must list at least one agent like 'ort-node:cpu@1', got '${text}'`);
  return specs.map((s) => {
    const [backend, threadsText, ...rest] = s.split('@');
    const threads = threadsText === undefined ? 1 : Number(threadsText);
    if (!backend || rest.length > 0 || !Number.isInteger(threads) || threads < 1 || threads > 256) {
      throw new RangeError(`'--agents' entry '${s}' must look like 'backend[:provider][@threads]', e.g. 'ort-node:cpu@2'`);
    }
    return { backend, threads };
  });
}

/** A short label for tables and folders: 'ort-node:cpu t2'. */
export function agentLabel(spec: DemoAgentSpec): string {
  return `${spec.backend} t${spec.threads}`;
}

const BIN = fileURLToPath(new URL('../../bin/hwlat.js', import.meta.url));

/** A running `hwlat agent` child process with its JSON event lines. */
export class AgentProcess {
  readonly events: Array<Record<string, unknown>> = [];
  stderr = '';
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;

  constructor(o: { spec: DemoAgentSpec; wsUrl: string; token: string; stateDir: string }) {
    // the token goes through the environment: a command line is visible to every user in `ps`
    this.child = spawn(
      process.execPath,
      [BIN, 'agent', '--collector', o.wsUrl, '--backend', o.spec.backend, '--threads', String(o.spec.threads), '--state-dir', o.stateDir, '--log-json'],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HWLAT_TOKEN: o.token } },
    );
    let buf = '';
    this.child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (!line.startsWith('{')) continue;
        try {
          this.events.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          // not an event line
        }
      }
    });
    this.child.stderr?.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-4000)));
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  /** The child's process id (for diagnostics and tests). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The device id the agent announced (its 'start' event), once it has. */
  deviceId(): string | undefined {
    const start = this.events.find((e) => e.event === 'start');
    return typeof start?.deviceId === 'string' ? start.deviceId : undefined;
  }

  /** Ctrl-C: the agent releases unfinished leases, drains its outbox and exits 0. */
  async stop(timeoutMs = 15_000): Promise<number | null> {
    if (!this.running) return this.exited;
    this.child.kill('SIGINT');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * The agents a machine with `cores` cores can measure cleanly: a t-thread agent needs t cores plus
 * one for the collector and the rest of the machine. On 2 cores a 2-thread agent's runs wait for a
 * descheduled thread at every barrier (its calibration moved 1.3–5.5× between rounds), so every
 * group came back disturbed and was measured twice. At least the first agent always stays.
 *
 * @example
 * fitAgentsToCores(DEFAULT_DEMO_AGENTS, 2).skipped; // [{ backend: 'ort-node:cpu', threads: 2 }]
 */
export function fitAgentsToCores(agents: readonly DemoAgentSpec[], cores: number): { run: DemoAgentSpec[]; skipped: DemoAgentSpec[] } {
  const fits = (a: DemoAgentSpec) => a.threads + 1 <= cores;
  const run = agents.filter(fits);
  if (run.length === 0 && agents.length > 0) run.push(agents[0] as DemoAgentSpec);
  return { run, skipped: agents.filter((a) => !run.includes(a)) };
}
