import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { LatencyStatsSchema } from '../../protocol/index.ts';
import { createOrtNodeBackend } from '../../agent/backends/ort-node.ts';
import type { LoadedModel, RuntimeBackend } from '../../agent/backends/types.ts';
import { MAX_BURST, measureInterleaved, measureOne, roundsForRuns } from '../../agent/harness/harness.ts';
import { probeModel, tinyConv, tinyMatMul } from './models.ts';
import { qualityOf } from '../../conditions/index.ts';

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
    // each round runs a burst of 8: one cold run, the mean of the last four is the sample
    assert.ok(m.wallMs >= 5, 'stopped before minTimeMs');
    assert.ok(m.wallMs >= 2 * m.samples.reduce((a, b) => a + b, 0));
    assert.ok(m.cold, 'the cold first runs are kept apart');
    assert.equal(m.cold.repeats + m.cold.outliers, r.rounds);
    assert.ok(m.stats.min <= m.stats.median && m.stats.median <= m.stats.p90);
  }
  assert.ok(r.calibration);
  assert.equal(r.calibration.trace.length, r.rounds);
  assert.equal(r.discardedRounds, 0);
  assert.equal(r.exhausted, false);
  assert.equal(r.calibration.stats.repeats + r.calibration.stats.outliers, r.rounds);
  assert.equal(progress.length, r.rounds);
  assert.deepEqual(progress.map(([d]) => d), Array.from({ length: r.rounds }, (_, i) => i + 1));
  assert.equal(progress.at(-1)![1], r.rounds, 'the last estimate is the real total');
});

test('measureInterleaved rotates the order so no model is always first', async () => {
  const log: string[] = [];
  const models = ['a', 'b', 'c'].map((l) => recording(mm, l, log));
  const r = await measureInterleaved(models, { warmup: 0, minRepeats: 6, minTimeMs: 0, burst: 3, calibration: recording(calib, 'cal', log) });
  assert.equal(r.rounds, 6);
  // every model (the calibration too) runs as a burst of 3 consecutive runs
  assert.equal(log.length, 6 * 4 * 3);
  const bursts = log.filter((_, i) => i % 3 === 0);
  for (let i = 0; i < log.length; i++) assert.equal(log[i], bursts[Math.floor(i / 3)], 'a burst is 3 runs of one model');
  const rounds = Array.from({ length: 6 }, (_, i) => bursts.slice(i * 4, i * 4 + 4));
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

/** Busy-waits `ms`: a model whose time the test decides. */
function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    /* busy */
  }
}

/**
 * A model that costs more on its first run after another model ran (the caches it left cold), as
 * real networks do: what the burst's first run is kept apart for.
 */
function cacheModels(labels: string[]): LoadedModel[] {
  let last = '';
  return labels.map((label) => ({
    run: async () => {
      spin(last === label ? 0.4 : 0.9);
      last = label;
    },
    outputShapes: async () => ({}),
    dispose: async () => {},
  }));
}

test('a burst times the warm runs after the first; the first (cold) run is a statistic of its own', async () => {
  const r = await measureInterleaved(cacheModels(['a', 'b']), { warmup: 1, minRepeats: 8, minTimeMs: 0, burst: 3 });
  for (const m of r.results) {
    assert.ok(m.cold);
    assert.ok(Math.abs(m.stats.median - 0.4) < 0.15, `warm median ${m.stats.median} ≈ 0.4 ms`);
    assert.ok(Math.abs(m.cold.median - 0.9) < 0.15, `cold median ${m.cold.median} ≈ 0.9 ms`);
  }
  // burst 1: every sample is a first run after another model, and there is no separate cold figure
  const cold = await measureInterleaved(cacheModels(['a', 'b', 'c']), { warmup: 1, minRepeats: 8, minTimeMs: 0, burst: 1 });
  for (const m of cold.results) {
    assert.equal(m.cold, null);
    assert.ok(Math.abs(m.stats.median - 0.9) < 0.15, `burst-1 median ${m.stats.median} ≈ 0.9 ms`);
  }
  await assert.rejects(measureInterleaved([mm], { burst: 0 }), (e: Error) => e instanceof RangeError && /'burst' must be >= 1/.test(e.message));
});

test('a round the monitor calls disturbed is discarded and run again; its samples never reach the figures', async () => {
  let round = 0;
  const slow = new Set([2, 3, 4]);
  let slowNow = false;
  const [a] = cacheModels(['a']);
  const model: LoadedModel = { ...a!, run: async () => spin(slowNow ? 30 : 0.3) };
  const judged: boolean[] = [];
  const r = await measureInterleaved([model], {
    warmup: 0, minRepeats: 10, minTimeMs: 0, burst: 2, backoffMs: 1,
    monitor: {
      begin: () => {
        slowNow = slow.has(round);
      },
      // judged by what the round was, not by its time: a busy test machine can stretch a 0.3 ms spin
      end: () => {
        round++;
        const disturbed = slowNow;
        judged.push(disturbed);
        return { disturbed, reasons: disturbed ? ['slow'] : [] };
      },
    },
  });
  assert.equal(r.rounds, 10, 'ten quiet rounds in the end');
  assert.equal(r.discardedRounds, 3);
  assert.equal(r.exhausted, false);
  assert.deepEqual(judged.slice(0, 6), [false, false, true, true, true, false]);
  assert.ok(r.results[0]!.samples.every((x) => x < 15), 'no disturbed sample kept');
  assert.equal(r.results[0]!.samples.length, 10);
});

test('a measurement that cannot get quiet rounds within its budget stops exhausted, with every round', async () => {
  const [a] = cacheModels(['a']);
  const r = await measureInterleaved([a!], {
    warmup: 0, minRepeats: 10, minTimeMs: 0, burst: 2, backoffMs: 0, maxDiscardedRounds: 4,
    monitor: { begin: () => {}, end: () => ({ disturbed: true, reasons: ['always'] }) },
  });
  assert.equal(r.exhausted, true);
  assert.equal(r.rounds, 0);
  assert.equal(r.discardedRounds, 5, 'gave up once the fifth discarded round passed the budget of 4');
  assert.equal(r.results[0]!.samples.length, 5, 'the figures of an exhausted measurement come from every round');
});

test('a budget that runs out after enough quiet rounds cuts the measurement short: it stands on its quiet rounds', async () => {
  const [a] = cacheModels(['a']);
  let round = 0;
  const r = await measureInterleaved([a!], {
    // a minimum time no round count reaches: only the budget ends it
    warmup: 0, minRepeats: 5, minTimeMs: 1e9, maxRepeats: 1000, burst: 2, backoffMs: 0, maxDiscardedRounds: 3,
    // six quiet rounds, then the device stays busy
    monitor: { begin: () => {}, end: () => (round++ < 6 ? { disturbed: false, reasons: [] } : { disturbed: true, reasons: ['busy'] }) },
  });
  assert.equal(r.exhausted, false);
  assert.equal(r.cutShort, true);
  assert.equal(r.rounds, 6);
  assert.equal(r.discardedRounds, 7, 'stopped once the discarded rounds outnumbered the kept ones');
  assert.equal(r.results[0]!.samples.length, 6, 'the figures come from the quiet rounds only');
  assert.equal(qualityOf({ ...r, evidence: ['busy'] }).verdict, 'remeasured');
  // fewer quiet rounds than asked for: disturbed, as before
  round = 0;
  const few = await measureInterleaved([a!], {
    warmup: 0, minRepeats: 8, minTimeMs: 1e9, maxRepeats: 1000, burst: 2, backoffMs: 0, maxDiscardedRounds: 3,
    monitor: { begin: () => {}, end: () => (round++ < 6 ? { disturbed: false, reasons: [] } : { disturbed: true, reasons: ['busy'] }) },
  });
  assert.deepEqual([few.exhausted, few.cutShort, few.rounds], [true, false, 6]);
  assert.equal(qualityOf({ ...few, evidence: ['busy'] }).verdict, 'disturbed');
});

test('roundsForRuns: a job counts timed warm runs; bursts of 8 give 4 a round, and at least 5 rounds', () => {
  assert.equal(roundsForRuns(10, 8), 5);
  assert.equal(roundsForRuns(40, 8), 10);
  assert.equal(roundsForRuns(10, 1), 10);
  assert.equal(roundsForRuns(16, 3), 8);
  assert.equal(roundsForRuns(3, 8), 3, 'a request below the floor stays as small as asked');
});

test('burstMs: a tiny model gets a burst long enough to last burstMs, a slow one keeps `burst`', async () => {
  const runs = new Map<string, number>();
  const model = (label: string, ms: number): LoadedModel => ({
    ...cacheModels([label])[0]!,
    run: async () => {
      runs.set(label, (runs.get(label) ?? 0) + 1);
      spin(ms);
    },
  });
  const r = await measureInterleaved([model('tiny', 0.02), model('slow', 2)], { warmup: 2, minRepeats: 5, maxRepeats: 5, minTimeMs: 0, burst: 4, burstMs: 1 });
  assert.equal(r.rounds, 5);
  // slow: 2 warm-up runs + 5 rounds × 4; tiny: a burst of 1 ms / ≥0.02 ms, so more than 4 and at most MAX_BURST
  assert.equal(runs.get('slow'), 2 + 5 * 4);
  const tinyPerRound = (runs.get('tiny')! - 2) / 5;
  assert.ok(tinyPerRound > 4 && tinyPerRound <= MAX_BURST && Number.isInteger(tinyPerRound), `tiny ran ${tinyPerRound} times a round`);
  await assert.rejects(measureInterleaved([model('x', 0.01)], { burstMs: -1 }), /^RangeError: 'burstMs' must be a finite number >= 0, got -1$/);
});
