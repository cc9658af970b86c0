// Coarse clocks: how many inferences one timed sample needs, and that the harness divides by it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { measureOne } from '../../agent/harness/harness.ts';
import { runsPerSampleFor, timerResolutionMs } from '../../agent/harness/timer.ts';
import type { LoadedModel } from '../../agent/backends/types.ts';

test('runsPerSampleFor: enough runs that one clock tick is at most 1% of a sample', () => {
  assert.equal(runsPerSampleFor(0.03, 0.1), 334); // a 30 µs op on Chromium's 100 µs clock
  assert.equal(runsPerSampleFor(0.03, 0.005), 17); // the same op in a cross-origin isolated page
  assert.equal(runsPerSampleFor(5, 0.1), 2); // one tick is 2% of a 5 ms run
  assert.equal(runsPerSampleFor(10, 0.1), 1);
  assert.equal(runsPerSampleFor(5, 0), 1);
  assert.equal(runsPerSampleFor(0, 1), 1000, 'a run too fast to see is capped');
  assert.equal(runsPerSampleFor(0.001, 1, { max: 50 }), 50);
  assert.equal(runsPerSampleFor(0.03, 0.1, { maxRelError: 0.1 }), 34);
  assert.throws(() => runsPerSampleFor(-1, 0.1), { name: 'RangeError', message: /'oneRunMs'/ });
  assert.throws(() => runsPerSampleFor(1, Number.NaN), { name: 'RangeError', message: /'resolutionMs'/ });
  assert.throws(() => runsPerSampleFor(1, 0.1, { maxRelError: 0 }), { name: 'RangeError', message: /'maxRelError'/ });
  assert.throws(() => runsPerSampleFor(1, 0.1, { max: 0 }), { name: 'RangeError', message: /'max'/ });
});

test("timerResolutionMs sees Node's fine clock", () => {
  const r = timerResolutionMs();
  assert.ok(r > 0 && r < 0.05, `resolution ${r} ms`);
  assert.throws(() => timerResolutionMs(0), { name: 'RangeError', message: /'maxMs'/ });
});

test('the harness divides each sample by runsPerSample and budgets by elapsed time', async () => {
  // a model whose run() makes 5 inferences of >= 1 ms each (busy-waiting on the real clock)
  const model: LoadedModel = {
    runsPerSample: 5,
    async run() {
      for (let i = 0; i < 5; i++) {
        const end = performance.now() + 1;
        while (performance.now() < end);
      }
    },
    async outputShapes() {
      return {};
    },
    async dispose() {},
  };
  const { stats, samples, wallMs } = await measureOne(model, { warmup: 0, minRepeats: 3, minTimeMs: 20 });
  assert.ok(stats.min >= 1 && stats.median < 4, `one inference is ~1 ms: ${JSON.stringify(stats)}`);
  // minTimeMs counts elapsed time (5 ms per sample): 4 samples reach 20 ms, not 20
  assert.ok(samples.length >= 3 && samples.length <= 5, `${samples.length} samples`);
  assert.ok(wallMs >= 20, `wallMs ${wallMs}`);
});
