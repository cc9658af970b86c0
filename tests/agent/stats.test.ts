import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LatencyStatsSchema } from '../../protocol/index.ts';
import { robustStats, splitOutliers } from '../../agent/harness/stats.ts';

const close = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) < eps, `${a} != ${b}`);

test('robustStats on a clean odd-length array matches hand-computed figures', () => {
  const s = robustStats([5, 1, 4, 2, 3]);
  assert.equal(s.median, 3);
  assert.equal(s.mean, 3);
  assert.equal(s.min, 1);
  close(s.p10, 1.4); // sorted [1..5], index 0.4 → 1 + 0.4
  close(s.p90, 4.6); // index 3.6 → 4 + 0.6
  close(s.stddev, Math.sqrt(2)); // population: mean of squared deviations 4+1+0+1+4 / 5
  close(s.cv, Math.sqrt(2) / 3);
  assert.equal(s.repeats, 5);
  assert.equal(s.outliers, 0);
  LatencyStatsSchema.parse(s);
});

test('robustStats drops a 100x sample and describes only the kept ones', () => {
  const samples = [1.0, 1.1, 0.9, 1.0, 1.05, 0.95, 100];
  const s = robustStats(samples);
  assert.equal(s.outliers, 1);
  assert.equal(s.repeats, 6);
  close(s.median, 1.0);
  close(s.mean, 1.0);
  assert.ok(s.p90 < 1.2, `p90 ${s.p90} still sees the outlier`);
  assert.deepEqual(splitOutliers(samples).dropped, [100]);
});

test('robustStats keeps every sample when the MAD is 0', () => {
  // Over half the samples equal: MAD = 0, so a modified z-score is undefined and nothing is dropped.
  const s = robustStats([2, 2, 2, 2, 50]);
  assert.equal(s.outliers, 0);
  assert.equal(s.repeats, 5);
  assert.equal(s.median, 2);
  close(s.mean, 11.6);
});

test('robustStats of one sample has zero spread', () => {
  const s = robustStats([3.5]);
  assert.deepEqual(
    { median: s.median, p10: s.p10, p90: s.p90, stddev: s.stddev, cv: s.cv, repeats: s.repeats },
    { median: 3.5, p10: 3.5, p90: 3.5, stddev: 0, cv: 0, repeats: 1 },
  );
});

test('robustStats rejects bad input with typed errors naming the argument', () => {
  assert.throws(() => robustStats([]), { name: 'RangeError', message: /'samplesMs' must hold at least 1 sample, got 0/ });
  assert.throws(() => robustStats([1, Number.NaN]), { name: 'RangeError', message: /'samplesMs'.*NaN at index 1/ });
  assert.throws(() => robustStats([1, -2]), { name: 'RangeError', message: /-2 at index 1/ });
  assert.throws(() => robustStats('1,2' as unknown as number[]), { name: 'TypeError', message: /'samplesMs'/ });
});
