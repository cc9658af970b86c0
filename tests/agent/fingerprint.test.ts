import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeviceProfileSchema } from '../../protocol/index.ts';
import { fingerprint } from '../../agent/fingerprint.ts';
import { createOrtNodeBackend } from '../../agent/backends/ort-node.ts';

test('fingerprint returns a valid profile whose id is stable and follows the runtime', async () => {
  const backend = await createOrtNodeBackend({ threads: 1 });
  await backend.dispose();
  const a = await fingerprint(backend.info);
  DeviceProfileSchema.parse(a);
  assert.match(a.id, /^dev-[0-9a-f]{12}$/);
  assert.match(a.name, / ort-node:cpu t1$/);
  assert.ok(a.hardware.cores >= 1);
  assert.ok(a.hardware.memoryBytes > 0);
  assert.equal(a.runtime.threads, 1);

  const again = await fingerprint({ ...backend.info });
  assert.equal(again.id, a.id);

  const t2 = await fingerprint({ ...backend.info, threads: 2 });
  assert.notEqual(t2.id, a.id);
  const other = await fingerprint({ ...backend.info, provider: 'cuda' });
  assert.notEqual(other.id, a.id);
});

test('fingerprint rejects a malformed runtime with a TypeError naming the field', async () => {
  await assert.rejects(
    fingerprint({ backend: 'ort-node', provider: 'cpu', version: '1.30.0', threads: -1 }),
    { name: 'TypeError', message: /'runtime.threads'/ },
  );
});
