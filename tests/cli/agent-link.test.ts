// The link `hwlat serve` prints for the browser agent, and its QR code.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { agentPageLink, terminalQr } from '../../cli/agent-link.ts';
import { spawnHwlat } from '../helpers/procs.ts';

test('agentPageLink carries the token; a collector on every address is reached through a LAN address', async () => {
  assert.equal(agentPageLink({ listenHost: '127.0.0.1', port: 8700, token: 'a b&c' }), 'http://127.0.0.1:8700/agent?token=a%20b%26c');
  assert.equal(agentPageLink({ listenHost: '::1', port: 1, token: 't' }), 'http://[::1]:1/agent?token=t');
  const lan = agentPageLink({ listenHost: '0.0.0.0', port: 8700, token: 't' });
  assert.match(lan, /^http:\/\/\d+\.\d+\.\d+\.\d+:8700\/agent\?token=t$/);
  assert.doesNotMatch(lan, /0\.0\.0\.0/);
  const qr = await terminalQr('http://127.0.0.1:8700/agent?token=t');
  assert.ok(qr.split('\n').length > 10 && /[█▀▄]/.test(qr), 'a QR code in block characters');
});

test('hwlat serve --print-link prints the browser link and its QR code', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hwlat-serve-link-'));
  const serve = spawnHwlat(['serve', '--db', join(dir, 's.sqlite'), '--port', '0', '--token', 'link-token-0123456789', '--print-link'], 'serve');
  try {
    let out = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no link printed; stdout:\n${out}\nstderr:\n${serve.stderr}`)), 50_000);
      // a serve that exits (say, on a database it cannot open) fails the test at once, not at the timeout
      void serve.exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`hwlat serve exited (${code}) before printing the link; stdout:\n${out}\nstderr:\n${serve.stderr}`));
      });
      serve.child.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        if (/browser: +http:\/\/127\.0\.0\.1:\d+\/agent\?token=link-token-0123456789/.test(out) && (out.match(/[█▀▄]/g) ?? []).length > 100) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  } finally {
    serve.kill('SIGTERM');
    await serve.exited;
    rmSync(dir, { recursive: true, force: true });
  }
});
