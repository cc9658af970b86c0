// Client errors are 4xx, bugs are 500 (issue 16, defect 6): malformed percent-encoding in a path
// is the client's fault (400, no `http_error` log line); a plain TypeError or RangeError is not.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { openStore, startCollector, StoreConflictError, StoreNotFoundError, StoreValidationError, type Collector, type SqliteStore } from '../../collector/index.ts';
import { httpStatusOf } from '../../collector/server/error-status.ts';
import { HttpError } from '../../collector/server/http.ts';
import { UnsupportedSpaceError } from '../../lut/index.ts';
import { ArchParseError, UnknownKeyError } from '../../ops-library/index.ts';
import { OnnxFormatError, UnsupportedOnnxError } from '../../predictor/onnx/index.ts';
import { TEST_TOKEN } from '../helpers/raw-agent.ts';

const dir = mkdtempSync(join(tmpdir(), 'hwlat-http-errors-'));
let store: SqliteStore;
let collector: Collector;
const events: Array<Record<string, unknown>> = [];
before(async () => {
  store = openStore({ path: join(dir, 'h.sqlite') });
  collector = await startCollector({ store, token: TEST_TOKEN, port: 0, host: '127.0.0.1', log: (e) => events.push(e) });
});
after(async () => {
  await collector.close();
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** GET with the path sent exactly as written (fetch would normalise it). */
function rawGet(path: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: collector.port, path, method: 'GET' }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text.startsWith('{') ? JSON.parse(text) : text }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('malformed percent-encoding in a path is a 400 naming the segment, not a 500', async () => {
  for (const path of ['/dashboard/%ff', '/api/campaigns/%E0%A4%A', '/agent/ort/%', '/api/devices/%zz/lut']) {
    const r = await rawGet(path);
    assert.equal(r.status, 400, `${path}: ${JSON.stringify(r.body)}`);
    assert.match(r.body.error, /malformed percent-encoding/);
  }
  assert.deepEqual(events.filter((e) => e.event === 'http_error'), []);
  // well-formed encoding still decodes
  assert.equal((await rawGet('/api/campaigns/no%20such')).status, 404);
});

test("the project's typed errors map to 4xx; other TypeErrors and RangeErrors are 500s", () => {
  assert.equal(httpStatusOf(new HttpError(413, 'big')), 413);
  assert.equal(httpStatusOf(new UnknownKeyError('space', 'darts', ['fbnet'])), 400);
  assert.equal(httpStatusOf(new ArchParseError('fbnet', 'x', 'bad')), 400);
  assert.equal(httpStatusOf(new StoreValidationError('measurement.stats', 'bad')), 400);
  assert.equal(httpStatusOf(new OnnxFormatError('not a model')), 400);
  assert.equal(httpStatusOf(new UnsupportedOnnxError(['Foo'], ['Conv'])), 400);
  assert.equal(httpStatusOf(new UnsupportedSpaceError('fbnet', 'csv', 'why')), 400);
  assert.equal(httpStatusOf(new StoreNotFoundError('job', 'j', 'getJob')), 404);
  assert.equal(httpStatusOf(new StoreConflictError('pass', 'p', 'differs')), 409);
  // what a bug throws
  assert.equal(httpStatusOf(new TypeError("Cannot read properties of undefined (reading 'x')")), 500);
  assert.equal(httpStatusOf(new RangeError('Invalid array length')), 500);
  assert.equal(httpStatusOf(new Error('boom')), 500);
  assert.equal(httpStatusOf('a string'), 500);
});
