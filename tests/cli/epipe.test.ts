// `hwlat … | head`: a reader that closes the pipe early ends the command quietly (exit 0, no stack
// trace), as Unix tools do.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/hwlat.js', import.meta.url));

test('a closed stdout (hwlat … | head) ends the command with exit 0 and nothing on stderr', { timeout: 60_000 }, async () => {
  const child = spawn(process.execPath, [BIN, 'ops', 'keys', '--space', 'fbnet'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  // the reader is gone before the command writes (as `head` is once it has its lines)
  child.stdout.destroy();
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  assert.equal(stderr, '');
  assert.equal(code, 0);
});
