import type { LutCell } from './types.ts';

/**
 * The LUT as a Vega-Lite heatmap: one row per searchable position, one column per candidate slot,
 * colour = Σ of the candidate's units' LUT medians (log scale: candidates differ by orders of
 * magnitude). Unmeasured candidates are grey, candidates without layers (skip) white.
 * report.ts has no heatmap; the accuracy charts come from there (accuracyScatterSpec,
 * errorHistogramSpec).
 */
export function lutHeatmapSpec(cells: readonly LutCell[], title: string): Record<string, unknown> {
  const positions = [...new Set(cells.map((c) => c.position))];
  const values = cells.map((c) => ({
    position: c.position,
    choice: c.choice,
    ms: c.ms,
    // a log scale needs positive values (a measured layer's median is; this guards a 0)
    shade: c.ms === null ? null : Math.max(c.ms, 1e-6),
    units: c.units,
    measured: `${c.measuredUnits}/${c.units}`,
  }));
  const choices = [...new Set(cells.map((c) => c.choice))];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    data: { values },
    width: Math.min(720, Math.max(240, 48 * choices.length)),
    height: Math.min(600, Math.max(120, 18 * positions.length)),
    encoding: {
      x: { field: 'choice', type: 'nominal', title: 'candidate', sort: choices, axis: { labelAngle: -40 } },
      y: { field: 'position', type: 'nominal', title: 'position', sort: positions },
      tooltip: [
        { field: 'position', type: 'nominal' },
        { field: 'choice', type: 'nominal' },
        { field: 'ms', type: 'quantitative', format: '.4f', title: 'LUT ms' },
        { field: 'measured', type: 'nominal', title: 'units measured' },
      ],
    },
    // Vega-Lite drops marks whose colour field is null, so unmeasured cells (grey) and candidates
    // without layers (skip, none: white, 0 ms, kept off the log scale) are layers of their own
    layer: [
      { transform: [{ filter: 'datum.ms === null' }], mark: { type: 'rect', stroke: '#fff', strokeWidth: 0.5, color: '#ddd' } },
      { transform: [{ filter: 'datum.units === 0' }], mark: { type: 'rect', stroke: '#ccc', strokeWidth: 0.5, color: '#fafafa' } },
      {
        transform: [{ filter: 'datum.ms !== null && datum.units > 0' }],
        mark: { type: 'rect', stroke: '#fff', strokeWidth: 0.5 },
        encoding: { color: { field: 'shade', type: 'quantitative', title: 'ms', scale: { type: 'log', scheme: 'viridis' } } },
      },
    ],
  };
}
