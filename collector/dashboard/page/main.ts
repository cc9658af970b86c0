/// <reference lib="dom" />
// The dashboard page (served at `/`, bundled by esbuild at first request). Vega and Vega-Lite are
// loaded before it as their browser builds from node_modules; everything else is plain DOM.
// types.ts rather than the predictor's index: the page's bundle must not pull in tfjs
import { PREDICTOR_KINDS } from '../../../predictor/types.ts';
import type {
  AccuracyView, CampaignView, DashboardSnapshot, DeviceQualityView, DeviceSummaryView, DeviceView, LutTableView, SpaceView,
} from '../../server/dashboard/types.ts';

declare const vega: typeof import('vega');
declare const vegaLite: typeof import('vega-lite');

type Device = DeviceView;

const state = {
  devices: [] as Device[],
  spaces: [] as SpaceView[],
  device: null as string | null,
  space: null as string | null,
  /** the selected device's measurement count when its detail was last drawn */
  drawnCount: -1,
};

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

/** Creates an element; strings become text nodes (never HTML: device names come from agents). */
function h(tag: string, attrs: Record<string, string> = {}, ...children: Array<Node | string | null>): HTMLElement {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) if (c !== null) e.append(c);
  return e;
}

async function getJson<T>(url: string, init?: RequestInit): Promise<T> {
  const res = await fetch(url, init);
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new Error((body as { error?: string } | null)?.error ?? `${res.status} ${res.statusText}`);
  return body as T;
}

const fmtMs = (ms: number | null | undefined) => (ms === null || ms === undefined || !Number.isFinite(ms) ? '—' : ms >= 100 ? ms.toFixed(1) : ms >= 1 ? ms.toFixed(3) : ms.toPrecision(3));
const pct = (x: number | undefined) => (x === undefined ? '—' : `${(100 * x).toFixed(1)}%`);
const gib = (b: number) => `${(b / 2 ** 30).toFixed(1)} GiB`;

// ---- charts ------------------------------------------------------------------------------------

/** Below this box width a chart's legend goes under the plot instead of beside it. */
const NARROW_PX = 480;

interface Drawn {
  view: { finalize(): void };
  spec: Record<string, unknown>;
  /** the box width the chart was laid out for */
  width: number;
  resize: ResizeObserver;
}

const views = new Map<HTMLElement, Drawn>();

/**
 * The spec sized to its box: as wide as the container (Vega-Lite's `width: 'container'`, fitted
 * with axes and legend inside), its title and x-axis title cut to that width, and the legend
 * under the plot in a narrow box (a phone), where beside it would leave the plot no room.
 */
function fitted(spec: Record<string, unknown>, width: number): Record<string, unknown> {
  const config = (spec.config ?? {}) as Record<string, unknown>;
  const title = typeof spec.title === 'string' ? { text: spec.title } : (spec.title as Record<string, unknown> | undefined);
  return {
    ...spec,
    width: 'container',
    autosize: { type: 'fit-x', contains: 'padding', resize: true },
    ...(title ? { title: { ...title, limit: { expr: 'width' } } } : {}),
    config: {
      ...config,
      axisX: { titleLimit: { expr: 'width' }, ...(config.axisX as object | undefined) },
      ...(width < NARROW_PX ? { legend: { orient: 'bottom', direction: 'horizontal', ...(config.legend as object | undefined) } } : {}),
    },
  };
}

function release(el: HTMLElement): void {
  const drawn = views.get(el);
  drawn?.resize.disconnect();
  drawn?.view.finalize();
  views.delete(el);
}

/**
 * Draws a Vega-Lite spec as SVG into `el` (replacing what was there), as wide as `el`; when `el`
 * changes width (a rotated phone, a wrapped row of charts) the chart is laid out again.
 */
async function chart(el: HTMLElement, spec: Record<string, unknown>): Promise<void> {
  release(el);
  el.replaceChildren();
  const width = el.clientWidth;
  const compiled = vegaLite.compile(fitted(spec, width) as never).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'svg', container: el, hover: true });
  let pending: ReturnType<typeof setTimeout> | undefined;
  const resize = new ResizeObserver(() => {
    clearTimeout(pending);
    // one redraw after a burst of resizes; none when the width did not change
    pending = setTimeout(() => {
      const drawn = views.get(el);
      if (drawn?.view === view && Math.abs(el.clientWidth - drawn.width) >= 1) void chart(el, drawn.spec);
    }, 100);
  });
  views.set(el, { view, spec, width, resize });
  resize.observe(el);
  await view.runAsync();
}

function message(el: HTMLElement, text: string, cls = 'muted'): void {
  release(el);
  el.replaceChildren(h('p', { class: cls }, text));
}

// ---- devices and campaigns (live) -------------------------------------------------------------

/** The device's data-quality line ("noisy: 31% of groups re-measured, cv 0.18"), a warning unless clean. */
function qualityLine(q: DeviceQualityView, tag = 'div', id?: string): HTMLElement {
  return h(tag, { class: `quality${q.verdict === 'clean' ? ' muted' : ' warn'}`, 'data-verdict': q.verdict, ...(id ? { id } : {}) }, q.text);
}

function backendText(d: Device): string {
  const r = d.runtime;
  return `${r.backend} · ${r.provider} · ${r.threads === 0 ? 'default' : r.threads} thread${r.threads === 1 ? '' : 's'} · v${r.version}`;
}

function hardwareText(d: Device): string {
  const hw = d.hardware;
  const gpus = hw.gpus.map((g) => `${g.vendor} ${g.model}`).join(', ');
  return [`${hw.cpu} (${hw.cores} cores)`, gib(hw.memoryBytes), `${hw.os}/${hw.arch}`, gpus, hw.userAgent ?? ''].filter(Boolean).join(' · ');
}

function drawDevices(): void {
  const body = $('device-table').querySelector('tbody') as HTMLElement;
  if (state.devices.length === 0) {
    body.replaceChildren(h('tr', {}, h('td', { colspan: '4', class: 'muted' }, 'no devices yet: start an agent (`hwlat agent --collector …`) or `hwlat profile`')));
    return;
  }
  body.replaceChildren(
    ...state.devices.map((d) => {
      const tr = h('tr', { 'data-device': d.id, class: d.id === state.device ? 'selected' : '' },
        h('td', {}, h('strong', {}, d.name), h('br'), h('code', { class: 'muted' }, d.id), d.quality ? qualityLine(d.quality) : null),
        h('td', {}, backendText(d)),
        h('td', {}, hardwareText(d)),
        h('td', { class: 'num' }, d.measurements.toLocaleString('en'), null),
      );
      tr.addEventListener('click', () => selectDevice(d.id));
      return tr;
    }),
  );
  for (const sel of [$<HTMLSelectElement>('device-select'), $<HTMLSelectElement>('predict-device')]) {
    const keep = sel.value || state.device || '';
    const mark = (d: Device) => (d.quality && d.quality.verdict !== 'clean' ? ` · ${d.quality.verdict} data` : '');
    sel.replaceChildren(...state.devices.map((d) => h('option', { value: d.id }, `${d.name} (${d.id})${mark(d)}`)));
    sel.value = keep;
  }
}

function bar(p: { total: number; done: number; leased: number; failed: number }): HTMLElement {
  const w = (n: number) => `${p.total > 0 ? (100 * n) / p.total : 0}%`;
  const left = (n: number) => `left:${p.total > 0 ? (100 * n) / p.total : 0}%;width:`;
  return h('div', { class: 'bar', role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': String(p.total), 'aria-valuenow': String(p.done) },
    h('span', { class: 'done', style: `left:0;width:${w(p.done)}` }),
    h('span', { class: 'failed', style: `${left(p.done)}${w(p.failed)}` }),
    h('span', { class: 'leased', style: `${left(p.done + p.failed)}${w(p.leased)}` }),
  );
}

function drawCampaigns(campaigns: CampaignView[]): void {
  const root = $('campaigns');
  if (campaigns.length === 0) {
    root.replaceChildren(h('p', { class: 'muted' }, 'no campaigns yet: `hwlat campaign create --space fbnet --ops --networks 300`'));
    return;
  }
  const name = (id: string) => state.devices.find((d) => d.id === id)?.name ?? id;
  root.replaceChildren(
    ...campaigns.map((c) => {
      const what = [c.request.ops ? 'op LUT' : '', c.request.networks > 0 ? `${c.request.networks} networks` : ''].filter(Boolean).join(' + ');
      return h('div', { class: 'campaign', 'data-campaign': c.id },
        h('div', { class: 'title' }, h('strong', {}, c.name ?? c.id), h('span', {}, `${c.space}: ${what}`),
          h('span', { class: 'muted' }, new Date(c.createdAt).toLocaleString()),
          h('span', { class: 'num campaign-done' }, `${c.done}/${c.total} done${c.failed ? `, ${c.failed} failed` : ''}`)),
        ...c.progress.map((p) =>
          h('div', { class: 'progress-row' }, h('span', {}, name(p.deviceId)), bar(p),
            h('span', { class: 'num' }, `${p.done}/${p.total}${p.leased ? ` (${p.leased} leased)` : ''}`))),
      );
    }),
  );
}

function onSnapshot(s: DashboardSnapshot): void {
  const live = $('live');
  live.className = 'live';
  live.textContent = `live · ${s.agents} agent${s.agents === 1 ? '' : 's'} connected`;
  const known = new Set(state.devices.map((d) => d.id));
  const fresh = s.devices.some((d) => !known.has(d.id));
  for (const d of state.devices) d.measurements = s.devices.find((x) => x.id === d.id)?.measurements ?? d.measurements;
  // a new device needs its full profile (the snapshot carries counts only)
  if (fresh) void loadDevices();
  else drawDevices();
  drawCampaigns(s.campaigns);
  const sel = state.devices.find((d) => d.id === state.device);
  if (sel && sel.measurements !== state.drawnCount) void drawDetail(false);
}

function listen(): void {
  const es = new EventSource('/api/events');
  es.addEventListener('snapshot', (e) => onSnapshot(JSON.parse((e as MessageEvent<string>).data) as DashboardSnapshot));
  es.addEventListener('error', () => {
    const live = $('live');
    live.className = 'live off';
    live.textContent = 'reconnecting…';
  });
}

// ---- one device -------------------------------------------------------------------------------

function selectDevice(id: string): void {
  if (id !== state.device) clearPrediction();
  state.device = id;
  $<HTMLSelectElement>('device-select').value = id;
  $<HTMLSelectElement>('predict-device').value = id;
  state.space = null;
  drawDevices();
  void drawDetail(true);
}

function drawSummary(s: DeviceSummaryView): void {
  $('device-quality').replaceWith(qualityLine(s.quality, 'p', 'device-quality'));
  // the list's quality line follows the selected device's measurements too
  const listed = state.devices.find((d) => d.id === s.device.id);
  if (listed && listed.quality?.text !== s.quality.text) {
    listed.quality = s.quality;
    drawDevices();
  }
  const counts = h('table', { class: 'small' }, h('tr', {}, h('th', {}, 'level'), h('th', {}, 'space'), h('th', { class: 'num' }, 'count')),
    ...s.counts.map((c) => h('tr', {}, h('td', {}, c.level), h('td', {}, c.space ?? '(none)'), h('td', { class: 'num' }, c.count.toLocaleString('en')))));
  $('counts').replaceChildren(s.counts.length ? counts : h('span', { class: 'muted' }, 'no measurements'));
  $('counts').className = '';
  $('coverage').className = '';
  $('coverage').replaceChildren(
    ...s.coverage.map((c) =>
      h('div', { class: 'cov', 'data-space': c.space }, h('span', {}, c.space), bar({ total: c.total, done: c.measured, leased: 0, failed: 0 }),
        h('span', { class: 'num' }, `${c.measured}/${c.total}`))),
  );
  const spaceSel = $<HTMLSelectElement>('space-select');
  const shown = s.coverage.filter((c) => c.measured > 0 || c.networks > 0).map((c) => c.space);
  spaceSel.replaceChildren(...(shown.length ? shown : s.coverage.map((c) => c.space)).map((n) => h('option', { value: n }, n)));
  state.space = state.space && shown.includes(state.space) ? state.space : s.defaultSpace ?? shown[0] ?? null;
  if (state.space) spaceSel.value = state.space;
}

function drawDownloads(device: string, space: string | null): void {
  const q = (extra: string) => `${space ? `space=${encodeURIComponent(space)}&` : ''}${extra}`;
  const base = `/api/devices/${encodeURIComponent(device)}`;
  const links = [
    ['LUT · ProxylessNAS yaml', `${base}/lut?${q('format=proxyless')}`],
    ['LUT · FBNet json', `${base}/lut?${q('format=fbnet')}`],
    ['LUT · csv', `${base}/lut?${q('format=csv')}`],
    ...(space ? [['predictor model (json bundle)', `${base}/model?space=${encodeURIComponent(space)}`]] : []),
  ];
  $('downloads').className = '';
  $('downloads').replaceChildren(...links.map(([text, href]) => h('a', { href: href as string, download: '' }, text as string)));
}

async function drawLut(device: string, space: string): Promise<void> {
  const el = $('lut-chart');
  try {
    const t = await getJson<LutTableView>(`/api/dashboard/devices/${encodeURIComponent(device)}/lut-table?space=${encodeURIComponent(space)}`);
    const measured = t.cells.filter((c) => c.ms !== null).length;
    $('lut-info').textContent = `${t.entries} LUT entries of ${space}; ${measured}/${t.cells.length} candidates fully measured; fixed layers ${fmtMs(t.fixed.ms)} ms; calibration ${fmtMs(t.calibrationMs)} ms`;
    if (t.cells.length === 0) message(el, `${space} is a fixed network: no candidates to lay out (fixed layers ${fmtMs(t.fixed.ms)} ms)`);
    else await chart(el, t.spec);
  } catch (e) {
    message(el, (e as Error).message, 'error');
  }
}

async function drawAccuracy(device: string, space: string): Promise<void> {
  const info = $('acc-info');
  info.className = 'muted';
  info.textContent = 'evaluating on held-out networks (trains a predictor without them)…';
  message($('acc-scatter'), '');
  message($('acc-hist'), '');
  let a: AccuracyView;
  try {
    a = await getJson<AccuracyView>(`/api/dashboard/devices/${encodeURIComponent(device)}/accuracy?space=${encodeURIComponent(space)}`);
  } catch (e) {
    info.className = 'error';
    info.textContent = (e as Error).message;
    return;
  }
  if (a.splits.length === 0) {
    info.textContent = `${a.networks} networks: too few to hold any out`;
    return;
  }
  const quality = state.devices.find((d) => d.id === device)?.quality;
  const pick = h('select', { id: 'acc-split', 'aria-label': 'held-out split' },
    ...a.splits.map((s, i) => h('option', { value: String(i) }, `${s.split}: ${s.testNetworks} held-out networks`)));
  const table = h('div');
  const drawSplit = async (i: number) => {
    const split = a.splits[i] as AccuracyView['splits'][number];
    // every kind of the predictor registry, in its order; a kind the evaluation has no figure for shows '—'
    const rows = PREDICTOR_KINDS.map((k) => {
      const m = split.metrics[k];
      return h('tr', { 'data-kind': k }, h('td', {}, k), h('td', { class: 'num' }, pct(m?.within10)), h('td', { class: 'num' }, pct(m?.mape)),
        h('td', { class: 'num' }, m ? m.spearman.toFixed(3) : '—'));
    });
    table.replaceChildren(
      h('p', { class: 'muted' }, `trained on ${split.trainNetworks} networks of one pass, tested on ${split.testNetworks} it never saw` +
        `${split.split === 'cross-pass' ? ' measured in other passes' : ''} (${a.networks} measured in all)`),
      h('div', { class: 'table-scroll' },
        h('table', { class: 'small', id: 'acc-table' }, h('tr', {}, h('th', {}, 'predictor'), h('th', {}, 'within ±10%'), h('th', {}, 'MAPE'), h('th', {}, 'Spearman')), ...rows)),
      ...(quality ? [qualityLine({ ...quality, text: `measured data ${quality.text}` }, 'p', 'acc-quality')] : []),
    );
    await chart($('acc-scatter'), split.scatter);
    await chart($('acc-hist'), split.histogram);
  };
  pick.addEventListener('change', () => void drawSplit(Number((pick as HTMLSelectElement).value)));
  info.className = '';
  info.replaceChildren(...(a.splits.length > 1 ? [pick] : []), table);
  await drawSplit(0);
}

/** Redraws the selected device; `full` also re-evaluates accuracy (a training run: not on every count change). */
async function drawDetail(full: boolean): Promise<void> {
  const device = state.device;
  if (!device) return;
  try {
    const s = await getJson<DeviceSummaryView>(`/api/dashboard/devices/${encodeURIComponent(device)}`);
    if (state.device !== device) return;
    state.drawnCount = s.device.measurements;
    drawSummary(s);
  } catch (e) {
    message($('counts'), (e as Error).message, 'error');
    return;
  }
  const space = state.space;
  drawDownloads(device, space);
  if (!space) {
    // nothing of the previously selected device may stay beside this one's quality line
    $('lut-info').textContent = '';
    message($('lut-chart'), 'no measurements of any space yet');
    $('acc-info').className = 'muted';
    $('acc-info').textContent = 'no network measurements of any space yet';
    message($('acc-scatter'), '');
    message($('acc-hist'), '');
    return;
  }
  syncPredictSpace(space);
  await drawLut(device, space);
  if (full) await drawAccuracy(device, space);
}

// ---- prediction form --------------------------------------------------------------------------

function syncPredictSpace(space: string): void {
  const sel = $<HTMLSelectElement>('predict-space');
  if (sel.value !== space) {
    sel.value = space;
    clearPrediction();
    fillExample();
  }
}

function fillExample(): void {
  const space = state.spaces.find((s) => s.name === $<HTMLSelectElement>('predict-space').value);
  const input = $<HTMLInputElement>('predict-arch');
  if (!space || space.examples.length === 0) return;
  const i = (space.examples.indexOf(input.value) + 1) % space.examples.length;
  input.value = space.examples[i] as string;
}

/** What `POST /api/predict` answers for one architecture (the fields the page shows). */
interface PredictResponse {
  latency_ms: number;
  low_ms: number;
  high_ms: number | null;
  kind: string;
  lut_sum_ms: number;
  breakdown: Array<{ source: 'lut' | 'regressor' }>;
  predictor: { source: 'store' | 'preloaded'; networks: number };
}

/**
 * Numbers the prediction requests: the answer to an earlier one (for the device, space or kind the
 * form showed before) is dropped instead of drawn under the form's new state.
 */
let predictionSeq = 0;

/** Removes the shown prediction (and any still in flight): it belonged to the form's previous state. */
function clearPrediction(): void {
  predictionSeq++;
  $('predict-result').replaceChildren();
}

/** Where the layers of a prediction came from, and where its predictor came from, in words. */
function predictionText(p: PredictResponse): string {
  const n = p.breakdown.length;
  const fromLut = p.breakdown.filter((r) => r.source === 'lut').length;
  const fromRegressor = n - fromLut;
  const layers =
    fromRegressor === 0
      ? `all ${n} layers from the LUT`
      : fromLut === 0
        ? `all ${n} layers from the per-kernel regressor (none is in the LUT)`
        : `${fromLut} of ${n} layers from the LUT, ${fromRegressor} from the per-kernel regressor (not in the LUT)`;
  const predictor =
    p.predictor.source === 'store'
      ? `predictor trained by the collector on ${p.predictor.networks} of the device's network measurements`
      : `predictor preloaded when the server started (\`hwlat serve --model\` or the demo), trained on ${p.predictor.networks} networks`;
  return `LUT sum ${fmtMs(p.lut_sum_ms)} ms: ${layers}; ${predictor}`;
}

async function predict(ev: Event): Promise<void> {
  ev.preventDefault();
  const out = $('predict-result');
  const seq = ++predictionSeq;
  const kind = $<HTMLSelectElement>('predict-kind').value;
  const body = {
    device: $<HTMLSelectElement>('predict-device').value,
    space: $<HTMLSelectElement>('predict-space').value,
    arch: $<HTMLInputElement>('predict-arch').value.trim(),
    ...(kind ? { kind } : {}),
  };
  out.replaceChildren(h('p', { class: 'muted' }, 'predicting (the first request of a device trains its predictor)…'));
  try {
    const p = await getJson<PredictResponse>('/api/predict', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (seq !== predictionSeq) return;
    out.replaceChildren(
      h('div', {}, h('output', { id: 'predict-ms', class: 'result-ms', 'data-ms': String(p.latency_ms), 'data-device': body.device }, `${fmtMs(p.latency_ms)} ms`),
        h('span', { class: 'muted' }, `  band ${fmtMs(p.low_ms)}–${p.high_ms === null ? '∞' : fmtMs(p.high_ms)} ms · ${p.kind}`)),
      h('p', { class: 'muted', id: 'predict-text' }, predictionText(p)),
    );
  } catch (e) {
    if (seq !== predictionSeq) return;
    out.replaceChildren(h('p', { class: 'error', id: 'predict-error' }, (e as Error).message));
  }
}

/** An uploaded ONNX model, decomposed into kernels on the server (`POST /api/predict/onnx`). */
async function predictOnnxFile(): Promise<void> {
  const out = $('predict-result');
  const seq = ++predictionSeq;
  const file = $<HTMLInputElement>('predict-onnx').files?.[0];
  if (!file) {
    out.replaceChildren(h('p', { class: 'error', id: 'predict-error' }, 'choose an .onnx file first'));
    return;
  }
  const device = $<HTMLSelectElement>('predict-device').value;
  const q = new URLSearchParams({ device, space: $<HTMLSelectElement>('predict-space').value });
  out.replaceChildren(h('p', { class: 'muted' }, `predicting ${file.name}…`));
  try {
    type OnnxAnswer =
      | { kind: 'kernel-sum'; latency_ms: number; lut_hits: number; regressor_kernels: number; free_nodes: number; kernels: unknown[] }
      | { kind: 'kernel-model'; latency_ms: number; kernel_sum_ms: number; overhead_ms: number; kernels: Array<{ source: string }>; unmapped: Array<{ op: string; macs_share: number }> };
    const p = await getJson<OnnxAnswer>(
      `/api/predict/onnx?${q}`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: await file.arrayBuffer() },
    );
    if (seq !== predictionSeq) return;
    // the device's kernel model when it has kernels timed in context, else the space's LUT kernel sum
    const detail =
      p.kind === 'kernel-model'
        ? `${p.kernels.filter((k) => k.source === 'measured').length} kernels timed on the device, ${p.kernels.filter((k) => k.source !== 'measured').length} from per-kernel-type regressors; ` +
          `kernels ${fmtMs(p.kernel_sum_ms)} ms + per-run overhead ${fmtMs(p.overhead_ms)} ms` +
          (p.unmapped.length > 0 ? `; not mapped: ${p.unmapped.map((u) => `${u.op} (${(100 * u.macs_share).toFixed(1)}% of MACs)`).join(', ')}` : '')
        : `${p.lut_hits} kernels from the LUT, ${p.regressor_kernels} from the per-kernel regressor, ${p.free_nodes} layout nodes free; ` +
          'no network-level correction (it is learned per search space), so fusion savings are not subtracted';
    out.replaceChildren(
      h('div', {}, h('output', { id: 'predict-ms', class: 'result-ms', 'data-ms': String(p.latency_ms), 'data-source': 'onnx', 'data-device': device }, `${fmtMs(p.latency_ms)} ms`),
        h('span', { class: 'muted' }, `  ${file.name} · ${p.kind === 'kernel-model' ? 'kernel model' : 'sum'} of ${p.kernels.length} kernels`)),
      h('p', { class: 'muted' }, detail),
    );
  } catch (e) {
    if (seq !== predictionSeq) return;
    out.replaceChildren(h('p', { class: 'error', id: 'predict-error' }, (e as Error).message));
  }
}

// ---- start ------------------------------------------------------------------------------------

async function loadDevices(): Promise<void> {
  const { devices } = await getJson<{ devices: Device[] }>('/api/devices');
  state.devices = devices;
  drawDevices();
  if (!state.device && devices.length > 0) selectDevice((devices[0] as Device).id);
}

async function start(): Promise<void> {
  const { spaces } = await getJson<{ spaces: SpaceView[] }>('/api/dashboard/spaces');
  state.spaces = spaces;
  $<HTMLSelectElement>('predict-space').replaceChildren(...spaces.filter((s) => s.positions > 0).map((s) => h('option', { value: s.name }, s.name)));
  // the predictor registry's kinds, so a kind added there is offered here
  $<HTMLSelectElement>('predict-kind').replaceChildren(
    h('option', { value: '' }, 'default (best on validation)'),
    ...PREDICTOR_KINDS.map((k) => h('option', { value: k }, k)),
  );
  // a prediction shown belongs to the form's device, space and kind: changing one clears it
  for (const id of ['predict-device', 'predict-space', 'predict-kind']) $(id).addEventListener('change', () => clearPrediction());
  $('device-select').addEventListener('change', (e) => selectDevice((e.target as HTMLSelectElement).value));
  $('space-select').addEventListener('change', (e) => {
    state.space = (e.target as HTMLSelectElement).value;
    void drawDetail(true);
  });
  $('acc-refresh').addEventListener('click', () => state.device && state.space && void drawAccuracy(state.device, state.space));
  $('predict-space').addEventListener('change', () => fillExample());
  $('predict-example').addEventListener('click', () => fillExample());
  $('predict-form').addEventListener('submit', (e) => void predict(e));
  $('predict-onnx-submit').addEventListener('click', () => void predictOnnxFile());
  fillExample();
  await loadDevices();
  listen();
}

void start().catch((e: Error) => {
  document.body.prepend(h('p', { class: 'error' }, `dashboard failed to start: ${e.message}`));
});
