// The /agent page's progress, defined once (agent/browser/progress.ts): jobs from the collector
// on the bar, this tab's results under it, named apart so the two never read as one count.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emptyCounts, progressView } from '../../agent/browser/progress.ts';

test('the bar counts the collector\'s jobs; the line under it counts this tab\'s results, disturbed ones named', () => {
  const v = progressView({ total: 305, done: 84, failed: 0 }, { ...emptyCounts(), results: 88, disturbed: 4, acked: 85, pending: 3 });
  assert.deepEqual(v, {
    value: 84,
    max: 305,
    jobs: '84 / 305 jobs done',
    results: 'this tab: 88 results (4 disturbed, their jobs measured again) · 85 stored · 3 waiting to be sent',
  });
  // finished jobs (done or given up) fill the bar; the text says how many were given up
  const failed = progressView({ total: 10, done: 7, failed: 2 }, { ...emptyCounts(), results: 1, acked: 1, resent: 2, failedJobs: 1 });
  assert.equal(failed.value, 9);
  assert.equal(failed.jobs, '7 / 10 jobs done (2 given up)');
  assert.equal(failed.results, 'this tab: 1 result · 1 stored · 2 re-sent · 1 job failed');
});

test('before any campaign for the device the bar is indeterminate and says it waits for one', () => {
  for (const jobs of [null, { total: 0, done: 0, failed: 0 }]) {
    const v = progressView(jobs, emptyCounts());
    assert.equal(v.value, null);
    assert.equal(v.jobs, 'no jobs for this device yet: waiting for a campaign');
    assert.equal(v.results, 'this tab: 0 results · 0 stored');
  }
});
