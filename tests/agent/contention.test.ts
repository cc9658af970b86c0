import assert from 'node:assert/strict';
import { test } from 'node:test';
import { calibrationModel, createBackend, networkItems, nodeProbe, profileItems, type LoadedModel, type RuntimeBackend } from '../../agent/index.ts';
import { ContentionDetector } from '../../conditions/index.ts';
import { getSpace, sampleArchs } from '../../ops-library/index.ts';
import { MeasurementSchema } from '../../protocol/index.ts';
import { startBackgroundLoad } from '../../scripts/bench/background-load.ts';

function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    /* busy: a competing tenant in this very process */
  }
}

/**
 * A real onnxruntime backend whose calibration network (recognised by its bytes) is slowed while
 * `disturb()` says so: contention injected into real runs, at the place the profiler watches.
 */
function disturbedBackend(real: RuntimeBackend, disturb: (run: number) => boolean): RuntimeBackend {
  const calBytes = calibrationModel();
  const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);
  return {
    info: real.info,
    dispose: () => real.dispose(),
    async load(bytes) {
      const model = await real.load(bytes);
      if (!same(bytes, calBytes)) return model;
      let runs = 0;
      const slowed: LoadedModel = {
        run: async () => {
          await model.run();
          if (disturb(runs++)) spin(3);
        },
        outputShapes: () => model.outputShapes(),
        dispose: () => model.dispose(),
      };
      return slowed;
    },
  };
}

const space = getSpace('nasbench201');
// bursts of 3 runs: the tests below count calibration runs per round
const common = { deviceId: 'dev-000000000000', passId: 'pass-contention', warmup: 2, minRepeats: 16, minTimeMs: 0, burst: 3, backoffMs: 1, noisyRetries: 0 };

test('rounds disturbed for a while are detected, discarded and re-measured; the measurement says so', async () => {
  const real = await createBackend('ort-node', { threads: 1 });
  // 2 warm-up runs, then 3 calibration runs per round (a burst): runs 14–31 are rounds 4–9
  const backend = disturbedBackend(real, (run) => run >= 14 && run < 32);
  try {
    const items = networkItems(space, sampleArchs(space, { count: 3, seed: 11 }));
    // a budget wide enough that real noise on a busy test machine, on top of the injected rounds,
    // cannot exhaust it
    const res = await profileItems(items, { ...common, backend, maxDiscardedRounds: 40 });
    assert.equal(res.measurements.length, 3);
    for (const m of res.measurements) {
      MeasurementSchema.parse(m);
      assert.equal(m.quality?.verdict, 'remeasured', 'rounds were discarded but quiet ones completed it');
      assert.ok((m.quality?.discardedRounds ?? 0) >= 3, `discarded ${m.quality?.discardedRounds} rounds`);
      assert.ok((m.quality?.rounds ?? 0) >= 8);
      assert.ok(m.quality!.evidence.some((e) => /^calibration .*× its baseline in \d+ of \d+ rounds$/.test(e)), m.quality!.evidence.join('; '));
      assert.ok(m.cold && m.cold.median > 0, 'the cold first-run figure is kept');
    }
    // the calibration figure comes from the quiet rounds: ~3 ms slower rounds are not in it
    assert.ok(res.calibrationMs! < 2.5, `calibration ${res.calibrationMs} ms from quiet rounds`);
    assert.deepEqual(res.groups, { total: 1, remeasured: 1, disturbed: 0 });
  } finally {
    await backend.dispose();
  }
});

test('a group that stays disturbed is stored marked disturbed, with its evidence', async () => {
  const real = await createBackend('ort-node', { threads: 1 });
  // quiet through the warm-up and a few rounds (a baseline), then slow for good
  const backend = disturbedBackend(real, (run) => run >= 20);
  try {
    const items = networkItems(space, sampleArchs(space, { count: 2, seed: 12 }));
    const res = await profileItems(items, { ...common, backend, maxDiscardedRounds: 6 });
    for (const m of res.measurements) {
      assert.equal(m.quality?.verdict, 'disturbed');
      assert.ok(m.quality!.evidence.length > 0);
      assert.ok(m.stats.median > 0, 'the figures are still there for the user to see');
    }
    assert.equal(res.groups.disturbed, 1);
  } finally {
    await backend.dispose();
  }
});

test('a quiet run is clean; no contention check (detector null) leaves every round in', async () => {
  const backend = await createBackend('ort-node', { threads: 1 });
  try {
    const items = networkItems(space, sampleArchs(space, { count: 2, seed: 13 }));
    const off = await profileItems(items, { ...common, backend, detector: null });
    for (const m of off.measurements) assert.deepEqual([m.quality?.verdict, m.quality?.discardedRounds], ['clean', 0]);
  } finally {
    await backend.dispose();
  }
});

test('a real competing workload (processes taking the cores) is detected while measuring', async () => {
  const backend = await createBackend('ort-node', { threads: 1 });
  const detector = new ContentionDetector();
  const items = networkItems(space, sampleArchs(space, { count: 3, seed: 14 }));
  try {
    // a quiet group first: the detector's baselines are the device's, as in an agent's run
    const quiet = await profileItems(items, { ...common, backend, detector, probe: nodeProbe() });
    assert.equal(quiet.measurements.length, 3);
    // then more busy processes than cores, busy nearly all the time
    const load = await startBackgroundLoad({ processes: 4, seed: 1, busyMs: [2000, 4000], idleMs: [1, 5], ort: false, durationMs: 60_000 });
    try {
      await new Promise((r) => setTimeout(r, 300));
      const busy = await profileItems(items, { ...common, backend, detector, probe: nodeProbe(), maxDiscardedRounds: 8 });
      const discarded = Math.max(...busy.measurements.map((m) => m.quality?.discardedRounds ?? 0));
      assert.ok(discarded > 0, `no round of the busy group was judged disturbed: ${JSON.stringify(busy.measurements.map((m) => m.quality))}`);
      assert.ok(busy.measurements.every((m) => m.quality?.verdict !== 'clean'));
    } finally {
      await load.stop();
    }
  } finally {
    await backend.dispose();
  }
});
