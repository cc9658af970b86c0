import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildLut, lutLookup, type LutEntry } from '../../lut/index.ts';
import type { LatencyStats, Measurement } from '../../protocol/index.ts';

const DEV = 'dev-aaaaaaaaaaaa';
const A = 'expanded_conv-input:56x56x24-output:28x28x40-expand:6-kernel:5-stride:2-idskip:0';
const B = 'Logits-input:7x7x1280-output:1000';

let seq = 0;
function m(key: string, calibrationMs: number | null, s: Partial<LatencyStats> & Pick<LatencyStats, 'mean' | 'stddev' | 'repeats'>, extra: Partial<Measurement> = {}): Measurement {
  const stats: LatencyStats = { median: s.mean, p10: s.mean, p90: s.mean, min: s.mean, cv: s.stddev / s.mean, outliers: 0, ...s };
  seq++;
  return {
    id: `measure-${seq}`, deviceId: DEV, passId: 'pass-1', level: 'op', space: 'proxyless-mobile', key, batch: 1, warmup: 3,
    stats, wallMs: 10, calibrationMs, createdAt: '2025-01-01T00:00:00.000Z', ...extra,
  };
}

function near(actual: number | undefined, expected: number, what: string): void {
  assert.ok(actual !== undefined && Math.abs(actual - expected) < 1e-12, `${what}: expected ${expected}, got ${actual}`);
}

function assertEntry(entry: LutEntry | undefined, want: Omit<LutEntry, 'key'>, key: string): void {
  assert.ok(entry, `entry ${key}`);
  assert.equal(entry.key, key);
  assert.equal(entry.count, want.count, `${key} count`);
  for (const f of ['mean', 'var', 'median', 'p10', 'p90'] as const) near(entry[f], want[f], `${key} ${f}`);
}

// two passes measured key A: pass 1 ran at calibration 1 ms, pass 2 on a machine twice as slow (2 ms)
const m1 = m(A, 1, { repeats: 4, mean: 2, stddev: 0.5, median: 1.9, p10: 1.5, p90: 2.6 });
const m2 = m(A, 2, { repeats: 6, mean: 6, stddev: 1, median: 5.8, p10: 5, p90: 7 }, { passId: 'pass-2' });
const m3 = m(B, 1, { repeats: 10, mean: 3, stddev: 0.3, median: 3, p10: 2.7, p90: 3.4 });
// a network measurement of another calibration: ignored, its calibration included
const net = m('|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|', 100, { repeats: 5, mean: 50, stddev: 1 }, { level: 'network' });

test('pools several measurements of a key after normalising them to the median calibration', () => {
  const lut = buildLut([m1, m2, m3, net]);
  // ref = median(1, 2, 1) = 1 (op-level only); m2 is rescaled by 1/2: mean 3, sd 0.5, median 2.9, p10 2.5, p90 3.5
  assert.equal(lut.calibrationMs, 1);
  assert.equal(lut.deviceId, DEV);
  assert.equal(lut.space, 'proxyless-mobile');
  assert.deepEqual([...lut.entries.keys()], [A, B]);
  // count 4+6; mean (4·2 + 6·3)/10 = 2.6; var (4·(0.25 + 0.6²) + 6·(0.25 + 0.4²))/10 = 0.49
  // median of medians (1.9, 2.9) = 2.4; p10 (1.5, 2.5) → 2; p90 (2.6, 3.5) → 3.05
  assertEntry(lutLookup(lut, A), { count: 10, mean: 2.6, var: 0.49, median: 2.4, p10: 2, p90: 3.05 }, A);
  // one measurement: its own figures, var = stddev²
  assertEntry(lutLookup(lut, B), { count: 10, mean: 3, var: 0.09, median: 3, p10: 2.7, p90: 3.4 }, B);
  assert.equal(lutLookup(lut, 'Conv-input:224x224x3-output:112x112x32'), undefined);
});

test('an explicit reference calibration rescales every value to it (variance by the square)', () => {
  const lut = buildLut([m1, m2, m3], { calibrationMs: 2 });
  assert.equal(lut.calibrationMs, 2);
  // m1 doubles: mean 4, sd 1, median 3.8, p10 3, p90 5.2; m2 stays: mean 6, sd 1
  // mean (16 + 36)/10 = 5.2; var (4·(1 + 1.2²) + 6·(1 + 0.8²))/10 = 1.96 = 4 × 0.49
  assertEntry(lutLookup(lut, A), { count: 10, mean: 5.2, var: 1.96, median: 4.8, p10: 4, p90: 6.1 }, A);
  assertEntry(lutLookup(lut, B), { count: 10, mean: 6, var: 0.36, median: 6, p10: 5.4, p90: 6.8 }, B);
});

test('measurements without a calibration are used as they are', () => {
  const a = m(A, null, { repeats: 2, mean: 1, stddev: 0 });
  const b = m(A, 4, { repeats: 2, mean: 3, stddev: 0 });
  const c = m(B, 2, { repeats: 1, mean: 5, stddev: 0 });
  // ref = median(4, 2) = 3: b → 3 × 3/4 = 2.25, c → 5 × 3/2 = 7.5, a untouched
  const lut = buildLut([a, b, c]);
  assert.equal(lut.calibrationMs, 3);
  // mean (2·1 + 2·2.25)/4 = 1.625; var (2·0.625² + 2·0.625²)/4 = 0.390625
  assertEntry(lutLookup(lut, A), { count: 4, mean: 1.625, var: 0.390625, median: 1.625, p10: 1.625, p90: 1.625 }, A);
  near(lutLookup(lut, B)?.mean, 7.5, 'B mean');

  // no calibration anywhere: nothing is rescaled and the LUT says so
  const raw = buildLut([a, m(B, null, { repeats: 3, mean: 0.5, stddev: 0.1 })]);
  assert.equal(raw.calibrationMs, null);
  near(lutLookup(raw, B)?.mean, 0.5, 'raw B mean');
  near(lutLookup(raw, B)?.var, 0.01, 'raw B var');
});

test('device and space bookkeeping', () => {
  // empty input needs the device named; network-only input gives an empty LUT of that device
  assert.throws(() => buildLut([]), (e: Error) => e instanceof TypeError && /'options.deviceId' is required/.test(e.message));
  const empty = buildLut([], { deviceId: DEV });
  assert.equal(empty.entries.size, 0);
  assert.equal(empty.calibrationMs, null);
  assert.equal(buildLut([net]).entries.size, 0);

  const other = m(B, 1, { repeats: 1, mean: 1, stddev: 0 }, { deviceId: 'dev-bbbbbbbbbbbb' });
  assert.throws(() => buildLut([m1, other]), (e: Error) => e instanceof RangeError && /mix devices: 'dev-aaaaaaaaaaaa' \(measurements\[0\]\) and 'dev-bbbbbbbbbbbb' \(measurements\[1\]\)/.test(e.message));
  assert.throws(() => buildLut([m1], { deviceId: 'dev-bbbbbbbbbbbb' }), /mix devices: 'dev-bbbbbbbbbbbb' \('options.deviceId'\) and 'dev-aaaaaaaaaaaa'/);
  assert.throws(() => buildLut([m1], { calibrationMs: -1 }), /'options.calibrationMs' must be a positive number/);
  assert.throws(() => buildLut('nope' as never), /'measurements' must be an array/);

  // mixed spaces: no single space unless one is named
  const nb = m(B, 1, { repeats: 1, mean: 1, stddev: 0 }, { space: 'nasbench201', key: 'nb201_head-input:8x8x64-output:10' });
  assert.equal(buildLut([m1, nb]).space, null);
  assert.equal(buildLut([m1, nb], { space: 'mixed' }).space, 'mixed');
});
