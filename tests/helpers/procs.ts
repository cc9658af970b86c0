import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/hwlat.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A real `hwlat` child process whose stdout is JSON lines (`--log-json`). */
export class HwlatProcess {
  readonly events: Array<Record<string, any>> = [];
  stderr = '';
  readonly exited: Promise<number | null>;
  private waiters: Array<() => void> = [];

  constructor(readonly child: ChildProcess, readonly label: string) {
    let buf = '';
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (!line.startsWith('{')) continue;
        try {
          this.events.push(JSON.parse(line));
        } catch {
          // not an event line
        }
        this.waiters.forEach((w) => w());
      }
    });
    child.stderr?.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => child.on('exit', (code) => {
      this.waiters.forEach((w) => w());
      resolve(code);
    }));
  }

  /** Resolves with the first event (from the start) matching `pred`; rejects after `timeoutMs`. */
  waitFor(pred: (e: Record<string, any>) => boolean, timeoutMs = 60_000): Promise<Record<string, any>> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const hit = this.events.find(pred);
        if (hit) {
          cleanup();
          resolve(hit);
        } else if (this.child.exitCode !== null || this.child.signalCode !== null) {
          cleanup();
          reject(new Error(`${this.label} exited (${this.child.exitCode ?? this.child.signalCode}) before the awaited event; stderr:\n${this.stderr.slice(-2000)}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${this.label}: timed out waiting for an event; last events: ${JSON.stringify(this.events.slice(-5))}\nstderr:\n${this.stderr.slice(-2000)}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== check);
      };
      this.waiters.push(check);
      check();
    });
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }
}

export function spawnHwlat(args: readonly string[], label: string, env: Record<string, string> = {}): HwlatProcess {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  return new HwlatProcess(child, label);
}

/** A free loopback port (so a restarted collector can come back on the same one). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export async function startServe(o: { db: string; token: string; port?: number; leaseTtlMs?: number }): Promise<{ proc: HwlatProcess; url: string; wsUrl: string; port: number }> {
  const proc = spawnHwlat(
    ['serve', '--db', o.db, '--host', '127.0.0.1', '--port', String(o.port ?? 0), '--token', o.token, '--lease-ttl', String(o.leaseTtlMs ?? 60_000), '--log-json'],
    'collector',
  );
  const ev = await proc.waitFor((e) => e.event === 'listening', 30_000);
  return { proc, url: ev.url, wsUrl: ev.wsUrl, port: ev.port };
}

export async function getJson(url: string, init?: RequestInit): Promise<{ status: number; body: any }> {
  const res = await fetch(url, init);
  return { status: res.status, body: await res.json().catch(() => null) };
}

export function until(pred: () => Promise<boolean> | boolean, timeoutMs: number, what: string, stepMs = 200): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = async () => {
      try {
        if (await pred()) return resolve();
      } catch {
        // not ready yet
      }
      if (Date.now() > deadline) return reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      setTimeout(tick, stepMs);
    };
    void tick();
  });
}
