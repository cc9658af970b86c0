// The one place zod errors become hwlat's messages (protocol/zod-error.ts), in each form a caller
// uses: a reply's field, an argument's TypeError, the store's bracketed path, a log line.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { StoreValidationError } from '../../collector/index.ts';
import { validate } from '../../collector/store/validate.ts';
import { describeZodError, firstZodIssue, invalidArgumentError, zodIssuePathSuffix } from '../../protocol/index.ts';

const Schema = z.object({ items: z.array(z.object({ id: z.string().min(1), ms: z.number().nonnegative() })) });
const bad = { items: [{ id: 'a', ms: 1 }, { id: '', ms: -1 }] };
const errorOf = (v: unknown) => {
  const r = Schema.safeParse(v);
  assert.ok(!r.success);
  return r.error;
};

test('the first issue: its path and message, and how many follow', () => {
  const first = firstZodIssue(errorOf(bad));
  assert.deepEqual(first.path, ['items', 1, 'id']);
  assert.match(first.message, />=1 characters/);
  assert.equal(first.more, 1);
});

test('replies and argument errors name the dotted field; the store names items in brackets', () => {
  const e = errorOf(bad);
  assert.equal(describeZodError(e).field, 'items.1.id');
  assert.match(describeZodError(e).message, /^items\.1\.id: /);
  assert.match(describeZodError(errorOf(null), '(body)').message, /^\(body\): /);
  const t = invalidArgumentError(e, 'batch', 'store: ');
  assert.ok(t instanceof TypeError);
  assert.match(t.message, /^store: 'batch\.items\.1\.id' is invalid: /);
  // every issue rides along, the second one included
  assert.match(String(t.cause), /→ at items\[1\]\.ms/);
  assert.equal(zodIssuePathSuffix(['items', 1, 'id']), '.items[1].id');
  assert.equal(zodIssuePathSuffix([3, 'id']), '[3].id');
  assert.throws(
    () => validate(Schema, bad, 'batch'),
    (err: unknown) => err instanceof StoreValidationError && err.argument === 'batch.items[1].id' && /\(and 1 more issue\)$/.test(err.message),
  );
});
