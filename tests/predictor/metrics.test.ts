import assert from 'node:assert/strict';
import { test } from 'node:test';
import { accuracy, kendallTau } from '../../predictor/index.ts';

const close = (actual: number, expected: number, what: string, eps = 1e-12) =>
  assert.ok(Math.abs(actual - expected) <= eps, `${what}: expected ${expected}, got ${actual}`);

test('kendallTau: perfect, reversed and a single discordant pair', () => {
  assert.equal(kendallTau([1, 2, 3, 4], [10, 20, 30, 40]), 1);
  assert.equal(kendallTau([1, 2, 3, 4], [40, 30, 20, 10]), -1);
  // scale and shift do not matter, only the order
  assert.equal(kendallTau([0.1, 0.5, 0.2], [100, 900, 300]), 1);
  // pairs (0,1) and (0,2) concordant, (1,2) discordant: (2 − 1) / 3
  close(kendallTau([1, 2, 3], [1, 3, 2]), 1 / 3, 'one swap of three');
  // 4 elements, one adjacent swap: 5 concordant, 1 discordant of 6 pairs
  close(kendallTau([1, 2, 3, 4], [1, 2, 4, 3]), 4 / 6, 'one swap of four');
});

test('kendallTau: tau-b tie correction', () => {
  // a ties on the pair (1,2) only: 5 concordant, tiesA 1 → 5 / √(6·5)
  close(kendallTau([1, 2, 2, 3], [1, 2, 3, 4]), 5 / Math.sqrt(30), 'tie in a');
  // the same tie in b instead: symmetric
  close(kendallTau([1, 2, 3, 4], [1, 2, 2, 3]), 5 / Math.sqrt(30), 'tie in b');
  // a pair tied in both rankings counts in neither: 2 concordant / √(2·2)
  assert.equal(kendallTau([1, 1, 2], [3, 3, 4]), 1);
  // scipy.stats.kendalltau's documented example (tau-b): −0.47140452079103173
  close(kendallTau([12, 2, 1, 12, 2], [1, 4, 7, 1, 0]), -0.47140452079103173, 'scipy example', 1e-15);
  // one ranking all tied: no information, 0 rather than NaN
  assert.equal(kendallTau([1, 1, 1], [1, 2, 3]), 0);
  assert.equal(kendallTau([], []), 0);
  assert.equal(kendallTau([5], [7]), 0);
});

test('kendallTau: unequal lengths are a RangeError naming both lengths', () => {
  assert.throws(() => kendallTau([1, 2, 3], [1, 2]), (e: Error) => e instanceof RangeError && /equal lengths, got 3 and 2/.test(e.message));
});

test('accuracy: hand-computed figures on a small case', () => {
  // relative errors: −1/11, +1/19, −3/33 (all within ±10%)
  const m = accuracy([10, 20, 30], [11, 19, 33]);
  assert.equal(m.n, 3);
  assert.equal(m.within10, 1);
  close(m.mape, (1 / 11 + 1 / 19 + 3 / 33) / 3, 'mape');
  close(m.rmse, Math.sqrt((1 + 1 + 9) / 3), 'rmse');
  assert.equal(m.spearman, 1);
  assert.equal(m.kendall, 1);
  // sorted relative errors [−1/11, −1/11, 1/19]; linear-interpolation quantiles (numpy's default)
  close(m.errP10, -1 / 11, 'errP10');
  close(m.errP90, -1 / 11 + 0.8 * (1 / 19 + 1 / 11), 'errP90');
});

test('accuracy: perfect and reversed predictions', () => {
  const perfect = accuracy([1.5, 2.5, 4, 8], [1.5, 2.5, 4, 8]);
  const { spearman, ...rest } = perfect;
  assert.deepEqual(rest, { n: 4, within10: 1, mape: 0, rmse: 0, kendall: 1, errP10: 0, errP90: 0 });
  close(spearman, 1, 'spearman', 1e-12);
  // reversed: relative errors +2, 0, −2/3
  const rev = accuracy([3, 2, 1], [1, 2, 3]);
  close(rev.within10, 1 / 3, 'within10');
  close(rev.mape, (2 + 0 + 2 / 3) / 3, 'mape');
  close(rev.rmse, Math.sqrt(8 / 3), 'rmse');
  close(rev.spearman, -1, 'spearman');
  assert.equal(rev.kendall, -1);
  close(rev.errP10, -2 / 3 + 0.2 * (2 / 3), 'errP10');
  close(rev.errP90, 0 + 0.8 * 2, 'errP90');
});

test('accuracy: ±10% is inclusive, and ties use midranks / tau-b', () => {
  // exactly +10% and −10% count; 10.5% does not
  const m = accuracy([110, 90, 221], [100, 100, 200]);
  close(m.within10, 2 / 3, 'within10 boundary');
  // predictions tied on the first two networks: Spearman on midranks [0.5, 0.5, 2] vs [0, 1, 2]
  const t = accuracy([1, 1, 3], [1, 2, 3]);
  close(t.spearman, Math.sqrt(3) / 2, 'spearman with a tie');
  close(t.kendall, 2 / Math.sqrt(6), 'kendall with a tie');
  // the result does not depend on the order the pairs are listed in
  const shuffled = accuracy([3, 1, 1], [3, 2, 1]);
  close(shuffled.spearman, t.spearman, 'spearman order');
  close(shuffled.kendall, t.kendall, 'kendall order');
});

test('accuracy: bad input is a RangeError', () => {
  assert.throws(() => accuracy([1, 2, 3], [1, 2]), (e: Error) => e instanceof RangeError && /'predicted' and 'measured' must have equal lengths, got 3 and 2/.test(e.message));
  assert.throws(() => accuracy([1], [1]), (e: Error) => e instanceof RangeError && /at least 2 networks, got 1/.test(e.message));
  assert.throws(() => accuracy([], []), RangeError);
});
