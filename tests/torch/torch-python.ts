import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';

/** Debian's interpreter, where `apt-get install python3-torchvision` puts torch (not a pyenv/venv python on PATH). */
export const PYTHON = '/usr/bin/python3';
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Whether PYTHON imports torch, and if not, why (probed once per process). */
let probe: { ok: boolean; reason: string } | null = null;
export function torchProbe(): { ok: boolean; reason: string } {
  if (probe) return probe;
  const r = spawnSync(PYTHON, ['-c', 'import torch, torchvision; print(torch.__version__)'], { encoding: 'utf8', timeout: 60_000 });
  probe = r.status === 0
    ? { ok: true, reason: `torch ${r.stdout.trim()}` }
    : { ok: false, reason: `${PYTHON} cannot import torch/torchvision (${r.error?.message ?? r.stderr.trim().split('\n').pop() ?? `exit ${r.status}`}); install them with: apt-get install -y python3-torchvision` };
  return probe;
}

/**
 * True when the test can run. Without torch the test is skipped visibly, except in CI (env CI
 * set), where torch must be there (.ci/run installs it) and its absence fails the test.
 */
export function torchReady(t: TestContext): boolean {
  const p = torchProbe();
  if (p.ok) return true;
  if (process.env.CI) assert.fail(`CI is set, so torch must be installed: ${p.reason}`);
  t.skip(p.reason);
  return false;
}

export interface PyResult { code: number | null; stdout: string; stderr: string; ms: number }

/** Runs PYTHON with `args` from the repository root (output collected; killed after timeoutMs). */
export function python(args: readonly string[], o: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<PyResult> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, args, { cwd: ROOT, env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', ...o.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: performance.now() - t0 });
    });
  });
}
