import type { TopLevelSpec } from 'vega-lite';
import type { EvalReport } from './evaluate.ts';
import { PREDICTOR_KINDS } from './types.ts';

/** Renders a Vega-Lite spec to an SVG string, offline (no browser, no CDN). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  // loaded on first use: every `serve` and `predict` process would otherwise pay ~600 ms for it
  const vega = await import('vega');
  const { compile } = await import('vega-lite');
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);
const pct = (x: number | undefined) => (x === undefined ? '' : `${(100 * x).toFixed(1)}%`);

function scatter(points: Array<{ measured: number; predicted: number; kind: string }>, title: string): TopLevelSpec {
  const max = Math.max(...points.map((p) => Math.max(p.measured, p.predicted))) * 1.05;
  const line = [{ x: 0, y: 0 }, { x: max, y: max }];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width: 360,
    height: 360,
    layer: [
      // the ±10% band around y = x
      { data: { values: [{ x: 0, lo: 0, hi: 0 }, { x: max, lo: max * 0.9, hi: max * 1.1 }] }, mark: { type: 'area', opacity: 0.15, color: '#2a9d8f' }, encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' } } },
      { data: { values: line }, mark: { type: 'line', color: '#555', strokeDash: [4, 4] }, encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } } },
      {
        data: { values: points },
        mark: { type: 'point', filled: true, size: 18, opacity: 0.7 },
        encoding: {
          x: { field: 'measured', type: 'quantitative', title: 'measured (ms)', scale: { domain: [0, max] } },
          y: { field: 'predicted', type: 'quantitative', title: 'predicted (ms)', scale: { domain: [0, max] } },
          color: { field: 'kind', type: 'nominal', title: 'predictor' },
        },
      },
    ],
  } as TopLevelSpec;
}

/** The count axis is titled for what it counts: without a title Vega-Lite writes "Count of Records". */
function histogram(points: Array<{ err: number; kind: string }>, title: string, countTitle = 'held-out networks'): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width: 360,
    height: 220,
    data: { values: points },
    mark: { type: 'bar', opacity: 0.7 },
    encoding: {
      x: { field: 'err', type: 'quantitative', bin: { maxbins: 40 }, title: 'relative error (pred − measured) / measured, %' },
      y: { aggregate: 'count', type: 'quantitative', stack: null, title: countTitle },
      color: { field: 'kind', type: 'nominal', title: 'predictor' },
    },
  } as TopLevelSpec;
}

/**
 * The evaluation as a standalone HTML page: a metrics table per split and, per split, a
 * predicted-vs-measured scatter with the ±10% band and an error histogram (inline SVG).
 */
export async function evalReportHtml(report: EvalReport): Promise<string> {
  const sections: string[] = [];
  for (const s of report.splits) {
    const rows = PREDICTOR_KINDS.filter((k) => s.metrics[k]).map((k) => {
      const m = s.metrics[k]!;
      return `<tr><td>${k}${k === report.predictor.data.chosen ? ' (default)' : ''}</td><td>${pct(m.within10)}</td><td>${pct(m.mape)}</td><td>${m.rmse.toFixed(3)}</td><td>${m.spearman.toFixed(3)}</td><td>${m.kendall.toFixed(3)}</td></tr>`;
    });
    const pts = PREDICTOR_KINDS.flatMap((k) => (s.points[k] ?? []).map((p) => ({ ...p, kind: k })));
    const sc = await renderSvg(scatter(pts, `${report.space}: predicted vs measured (${s.split})`));
    const hi = await renderSvg(histogram(pts.map((p) => ({ kind: p.kind, err: (100 * (p.predicted - p.measured)) / p.measured })), `error histogram (${s.split})`));
    sections.push(`<h2>${s.split}: trained on ${s.trainNetworks} networks, tested on ${s.testNetworks} unseen ones</h2>
<table><tr><th>predictor</th><th>within ±10%</th><th>MAPE</th><th>RMSE (ms)</th><th>Spearman</th><th>Kendall</th></tr>${rows.join('')}</table>
<div class="plots">${sc}${hi}</div>`);
  }
  const d = report.predictor.data;
  return `<!doctype html><html><head><meta charset="utf-8"><title>hwlat eval: ${esc(report.space)} on ${esc(report.deviceId)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}td:first-child,th:first-child{text-align:left}.plots{display:flex;gap:2em;flex-wrap:wrap}</style></head><body>
<h1>Latency prediction accuracy: ${esc(report.space)}</h1>
<p>device <code>${esc(report.deviceId)}</code>; LUT entries ${report.lutEntries} (${d.training.regressorUnits} units from the per-kernel regressor); reference calibration ${report.calibrationMs?.toFixed(4) ?? 'none'} ms; every latency normalised by its own group's calibration, and compared at it with the learned elasticity β = ${(d.calibrationElasticity ?? 1).toFixed(3)} (ms ∝ calibration^β).</p>
${sections.join('\n')}
</body></html>`;
}

/** The report's chart specs, for other renderers (the collector's dashboard draws them in the browser). */
export { scatter as accuracyScatterSpec, histogram as errorHistogramSpec };
