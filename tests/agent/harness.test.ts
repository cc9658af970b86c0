import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { LatencyStatsSchema } from '../../protocol/index.ts';
import { createOrtNodeBackend } from '../../agent/backends/ort-node.ts';
import type { LoadedModel, RuntimeBackend } from '../../agent/backends/types.ts';
import { measureInterleaved, measureOne } from '../../agent/harness/harness.ts';
import { probeModel, tinyConv, tinyMatMul } from './models.ts';

let backend: RuntimeBackend;
let conv: LoadedModel;
let mm: LoadedModel;
let calib: LoadedModel;

before(async () => {
  backend = await createOrtNodeBackend({ threads: 1 });
  conv = await backend.load(tinyConv());
  mm = await backend.load(tinyMatMul());
  calib = await backend.load(probeModel());
});
after(() => backend.dispose());

/** A real model that also records which model ran when, to check the round order. */
function recording(model: LoadedModel, label: string, log: string[]): LoadedModel {
  return {
    run: async () => {
      log.push(label);
      await model.run();
    },
    outputShapes: () => model.outputShapes(),
    dispose: () => model.dispose(),
  };
}

test('measureInterleaved measures two real models with a calibration trace of one entry per round', async () => {
  const progress: Array<[number, number]> = [];
  const r = await measureInterleaved([conv, mm], {
    warmup: 2,
    minRepeats: 12,
    minTimeMs: 5,
    maxRepeats: 500,
    calibration: calib,
    onRound: (done, total) => progress.push([done, total]),
  });
  assert.equal(r.results.length, 2);
  assert.ok(r.rounds >= 12);
  for (const m of r.results) {
    LatencyStatsSchema.parse(m.stats);
    assert.equal(m.samples.length, r.rounds);
    assert.equal(m.stats.repeats + m.stats.outliers, r.rounds);
    assert.ok(m.stats.repeats >= 1);
    assert.ok(m.samples.reduce((a, b) => a + b, 0) >= 5, 'stopped before minTimeMs');
    assert.ok(m.wallMs >= m.samples.reduce((a, b) => a + b, 0));
    assert.ok(m.stats.min <= m.stats.median && m.stats.median <= m.stats.p90);
  }
  assert.ok(r.calibration);
  assert.equal(r.calibration.trace.length, r.rounds);
  assert.equal(r.calibration.stats.repeats + r.calibration.stats.outliers, r.rounds);
  assert.equal(progress.length, r.rounds);
  assert.deepEqual(progress.map(([d]) => d), Array.from({ length: r.rounds }, (_, i) => i + 1));
  assert.equal(progress.at(-1)![1], r.rounds, 'the last estimate is the real total');
});

test('measureInterleaved rotates the order so no model is always first', async () => {
  const log: string[] = [];
  const models = ['a', 'b', 'c'].map((l) => recording(mm, l, log));
  const r = await measureInterleaved(models, { warmup: 0, minRepeats: 6, minTimeMs: 0, calibration: recording(calib, 'cal', log) });
  assert.equal(r.rounds, 6);
  const rounds = Array.from({ length: 6 }, (_, i) => log.slice(i * 4, i * 4 + 4));
  for (const round of rounds) assert.deepEqual([...round].sort(), ['a', 'b', 'c', 'cal']);
  assert.deepEqual(new Set(rounds.map((round) => round[0])), new Set(['a', 'b', 'c', 'cal']));
});

test('measureInterleaved stops at maxRepeats even if minTimeMs is out of reach', async () => {
  const r = await measureInterleaved([mm], { warmup: 0, minRepeats: 3, maxRepeats: 7, minTimeMs: 1e9 });
  assert.equal(r.rounds, 7);
  assert.equal(r.results[0]!.samples.length, 7);
  assert.equal(r.calibration, null);
});

test('measureOne measures a single model', async () => {
  const r = await measureOne(conv, { warmup: 1, minRepeats: 5, minTimeMs: 0 });
  assert.equal(r.samples.length, 5);
  LatencyStatsSchema.parse(r.stats);
});

test('measureInterleaved validates its options with typed errors naming them', async () => {
  const bad: Array<[object, string, RegExp]> = [
    [{ minRepeats: 0 }, 'RangeError', /^'minRepeats' must be >= 1, got 0$/],
    [{ warmup: -1 }, 'RangeError', /^'warmup' must be >= 0, got -1$/],
    [{ warmup: 1.5 }, 'RangeError', /^'warmup' must be an integer >= 0, got 1.5$/],
    [{ maxRepeats: 5, minRepeats: 10 }, 'RangeError', /^'maxRepeats' must be >= 'minRepeats' \(10\), got 5$/],
    [{ minTimeMs: -1 }, 'RangeError', /^'minTimeMs' must be a finite number >= 0, got -1$/],
    [{ minTimeMs: Number.POSITIVE_INFINITY }, 'RangeError', /'minTimeMs'/],
    [{ minRepeats: '10' }, 'TypeError', /^'minRepeats' must be a number, got string$/],
    [{ calibration: {} }, 'TypeError', /'calibration'/],
    [{ onRound: 1 }, 'TypeError', /'onRound'/],
  ];
  for (const [options, name, message] of bad) {
    await assert.rejects(measureInterleaved([mm], options), { name, message }, JSON.stringify(options));
  }
  await assert.rejects(measureInterleaved([]), { name: 'RangeError', message: /'models' must hold at least 1 model, got 0/ });
  await assert.rejects(measureInterleaved([mm, {} as LoadedModel]), { name: 'TypeError', message: /'models\[1\]'/ });
  await assert.rejects(measureInterleaved(mm as unknown as LoadedModel[]), { name: 'TypeError', message: /'models'/ });
});
