// The evaluation report's charts: axes titled for what they show (the histogram counts held-out
// networks; an untitled count axis reads "Count of Records" in Vega-Lite).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { errorHistogramSpec, renderSvg } from '../../predictor/index.ts';

test('the error histogram counts held-out networks, drawn as such', async () => {
  const points = [-4, -1, 0.5, 2, 2.5, 7].map((err, i) => ({ err, kind: i % 2 ? 'composite' : 'lut-sum' }));
  const spec = errorHistogramSpec(points, 'error histogram (same-pass)');
  const svg = await renderSvg(spec);
  assert.match(svg, /held-out networks/);
  assert.doesNotMatch(svg, /Count of Records/);
  assert.match(svg, /relative error/);
  // a caller may name the count otherwise
  assert.match(await renderSvg(errorHistogramSpec(points, 't', 'networks')), />networks</);
});
