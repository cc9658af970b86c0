import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { openStore, planTasks, startCollector, trainingData, type Collector, type SqliteStore } from '../../collector/index.ts';
import { insufficientCleanData, type QualitySummary } from '../../conditions/index.ts';
import { getSpace, sampleArchs } from '../../ops-library/index.ts';
import { evalReportHtml, evaluatePredictors, savePredictor, type AccuracyMetrics } from '../../predictor/index.ts';
import { CampaignRequestSchema, campaignFinished, type Campaign, type CampaignRequest } from '../../protocol/index.ts';
import { agentPageLink } from '../agent-link.ts';
import { agentLabel, AgentProcess, type DemoAgentSpec } from './agents.ts';

export interface DemoOptions {
  /** the SQLite file (kept: a second run reuses what it holds) */
  db: string;
  space: string;
  /** network measurements per device (besides the op LUT) */
  networks: number;
  seed: number;
  agents: readonly DemoAgentSpec[];
  /** folder for the report, the trained predictors and the agents' outboxes */
  out: string;
  port: number;
  host: string;
  /** per-model measurement time (ms): the campaign's `minTimeMs` */
  minTimeMs: number;
  /** give up on an agent that makes no progress for this long (ms) */
  stallMs?: number;
  token?: string;
  /** progress per agent; `done` of `total` jobs for that device */
  onProgress?: (e: { stage: 'measure' | 'train'; label: string; done: number; total: number; note?: string }) => void;
  log?: (line: string) => void;
}

/** One device's line of the summary. */
export interface DemoDeviceResult {
  label: string;
  deviceId: string | null;
  /** measurements of this device in the store (op + network) */
  measurements: number;
  networks: number;
  lutEntries: number;
  /** what was measured in this run (0 when everything was already stored) */
  measuredNow: number;
  kind: string | null;
  metrics: AccuracyMetrics | null;
  /** composite predictions per second, batched, from arch strings */
  predictionsPerSecond: number | null;
  modelDir: string | null;
  report: string | null;
  error: string | null;
  /** the quality of the device's measurements (conditions/quality.ts); null before any */
  quality: QualitySummary | null;
  /** measurements left out of training as disturbed */
  dropped: { ops: number; networks: number } | null;
}

export interface DemoResult {
  campaignId: string;
  reusedCampaign: boolean;
  space: string;
  db: string;
  dashboard: string;
  /** the browser agent's page with the token (`/agent?token=…`): a phone or laptop that opens it is measured too */
  agentUrl: string;
  report: string;
  devices: DemoDeviceResult[];
  seconds: number;
  /** the collector, still serving; close it (and the store) when done */
  collector: Collector;
  store: SqliteStore;
}

/** The campaign the demo runs: the op LUT of the space plus `networks` sampled networks. */
export function demoCampaignRequest(o: Pick<DemoOptions, 'space' | 'networks' | 'seed' | 'minTimeMs'>): CampaignRequest {
  return CampaignRequestSchema.parse({
    name: `hwlat demo: ${o.space}`,
    space: getSpace(o.space).name,
    ops: true,
    networks: o.networks,
    seed: o.seed,
    devices: 'all',
    settings: { batch: 1, warmup: 3, minRepeats: 10, minTimeMs: o.minTimeMs },
  });
}

/**
 * The main job on the embedded default: a collector on a local SQLite file, local agents as
 * separate processes (one device each), one campaign (op LUT + networks), then per device its LUT,
 * a trained predictor, held-out accuracy and prediction speed, and an HTML report. Agents measure
 * one after another: two agents timing at once on the same cores would measure each other.
 * A second run finds the same campaign and measures only what is missing.
 *
 * @example
 * const r = await runDemo({ db: 'hwlat.sqlite', space: 'fbnet', networks: 200, seed: 0, agents: DEFAULT_DEMO_AGENTS, out: 'hwlat-demo', port: 8700, host: '127.0.0.1', minTimeMs: 100 });
 * console.log(r.devices.map((d) => d.metrics?.within10));
 * await r.collector.close(); await r.store.close();
 */
export async function runDemo(o: DemoOptions): Promise<DemoResult> {
  const t0 = performance.now();
  const log = o.log ?? (() => {});
  const progress = o.onProgress ?? (() => {});
  if (o.agents.length === 0) throw new RangeError(`'agents' must list at least one agent`);
  const request = demoCampaignRequest(o);
  const out = resolve(o.out);
  mkdirSync(out, { recursive: true });
  const store = openStore({ path: o.db });
  const token = o.token ?? randomBytes(12).toString('hex');
  let collector: Collector;
  try {
    collector = await startCollector({ store, token, port: o.port, host: o.host, leaseTtlMs: 30_000 });
  } catch (e) {
    await store.close();
    throw e;
  }
  try {
    const agentUrl = agentPageLink({ listenHost: o.host, port: collector.port, token });
    log(`collector and dashboard on ${collector.url} (db ${o.db})`);
    log(`browser agent: ${agentUrl}`);
    const existing = (await store.listCampaigns()).find((c) => isDeepStrictEqual(c.request, request));
    const campaign: Campaign =
      existing ?? await store.createCampaign({ id: `camp-demo-${randomBytes(4).toString('hex')}`, createdAt: new Date().toISOString(), request, tasks: planTasks(request) });
    log(existing ? `reusing campaign ${campaign.id} (${campaign.tasks} jobs per device)` : `campaign ${campaign.id}: ${campaign.tasks} jobs per device (op LUT + ${o.networks} networks of ${request.space})`);

    const measured: Array<{ spec: DemoAgentSpec; deviceId: string | null; measuredNow: number; error: string | null }> = [];
    for (const spec of o.agents) measured.push(await measureWith(spec));

    const devices: DemoDeviceResult[] = [];
    for (const m of measured) devices.push(await evaluateDevice(m));
    const report = join(out, 'report.html');
    writeFileSync(report, summaryHtml(request.space, devices, collector.url));
    return { campaignId: campaign.id, reusedCampaign: existing !== undefined, space: request.space, db: o.db, dashboard: collector.url, agentUrl, report, devices, seconds: (performance.now() - t0) / 1000, collector, store };

    async function measureWith(spec: DemoAgentSpec) {
      const label = agentLabel(spec);
      // what each device had done before this agent started: read now, not at the first poll,
      // since a fast agent finishes jobs before the first poll sees it (a device not yet in the
      // campaign had done none)
      const prior = new Map((await store.campaignProgress(campaign.id)).map((p) => [p.deviceId, p.done + p.failed]));
      const agent = new AgentProcess({ spec, wsUrl: collector.wsUrl, token, stateDir: join(out, 'agents', label.replace(/[^a-zA-Z0-9_-]+/g, '_')) });
      let deviceId: string | null = null;
      let error: string | null = null;
      let last = { done: -1, at: performance.now() };
      try {
        for (;;) {
          await sleep(300);
          deviceId ??= agent.deviceId() ?? null;
          if (!agent.running) {
            error = `agent exited (${await agent.exited}): ${agent.stderr.trim().split('\n').slice(-1)[0] ?? ''}`;
            break;
          }
          if (!deviceId) continue;
          const p = (await store.campaignProgress(campaign.id)).find((x) => x.deviceId === deviceId);
          if (!p) continue; // jobs are created when the agent first asks for a lease
          progress({ stage: 'measure', label, done: p.done + p.failed, total: p.total, note: p.failed ? `${p.failed} failed` : '' });
          if (campaignFinished(p)) break;
          if (p.done + p.failed !== last.done) last = { done: p.done + p.failed, at: performance.now() };
          else if (performance.now() - last.at > (o.stallMs ?? 120_000)) {
            error = `no progress for ${Math.round((o.stallMs ?? 120_000) / 1000)} s; stopped`;
            break;
          }
        }
      } finally {
        await agent.stop();
      }
      const p = deviceId ? (await store.campaignProgress(campaign.id)).find((x) => x.deviceId === deviceId) : undefined;
      if (error) log(`${label}: ${error}`);
      return { spec, deviceId, measuredNow: p ? p.done + p.failed - (prior.get(p.deviceId) ?? 0) : 0, error };
    }

    async function evaluateDevice(m: (typeof measured)[number]): Promise<DemoDeviceResult> {
      const label = agentLabel(m.spec);
      const base: DemoDeviceResult = {
        label, deviceId: m.deviceId, measurements: 0, networks: 0, lutEntries: 0, measuredNow: m.measuredNow, kind: null, metrics: null,
        predictionsPerSecond: null, modelDir: null, report: null, error: m.error, quality: null, dropped: null,
      };
      if (!m.deviceId) return base;
      const data = await trainingData(store, m.deviceId, request.space);
      base.quality = data.quality;
      base.dropped = data.dropped;
      base.measurements = await store.countMeasurements({ deviceId: m.deviceId });
      base.networks = data.networks.length;
      base.lutEntries = data.lutMs.size;
      // too little clean data gets no score: the note says why instead
      const insufficient = insufficientCleanData({ usable: data.networks.length, total: data.networkMeasurements });
      if (insufficient !== null) {
        base.error ??= insufficient;
        return base;
      }
      if (data.networks.length < 10 || data.lutMs.size === 0) {
        base.error ??= `too few measurements to train (${data.networks.length} networks, ${data.lutMs.size} LUT entries)`;
        return base;
      }
      progress({ stage: 'train', label, done: 0, total: 1, note: 'training and evaluating' });
      const ev = await evaluatePredictors({ ...data, encodingBaseline: true });
      const predictor = ev.predictor;
      const split = ev.splits.find((s) => s.split === 'same-pass') ?? ev.splits[0];
      base.kind = predictor.data.chosen;
      base.metrics = split?.metrics[predictor.data.chosen] ?? null;
      // prediction speed: arch strings in, batched, the default kind
      const archs = sampleArchs(getSpace(request.space), { count: 20_000, seed: 7 });
      predictor.predictBatch(archs.slice(0, 1000));
      const ts = performance.now();
      predictor.predictBatch(archs);
      base.predictionsPerSecond = archs.length / ((performance.now() - ts) / 1000);
      const slug = `${m.deviceId}-${request.space}`;
      base.modelDir = join(out, 'models', slug);
      await savePredictor(predictor, base.modelDir);
      base.report = join(out, `report-${slug}.html`);
      writeFileSync(base.report, await evalReportHtml(ev));
      collector.predictors.preload(predictor);
      progress({ stage: 'train', label, done: 1, total: 1, note: 'done' });
      return base;
    }
  } catch (e) {
    await collector.close();
    await store.close();
    throw e;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);
const pct = (x: number | undefined) => (x === undefined ? '–' : `${(100 * x).toFixed(1)}%`);

/**
 * The note of a device's summary row: its error, and the quality of its data unless clean
 * ("noisy: 31% of groups re-measured, cv 0.18"), so a score from a busy device never reads as
 * one from a quiet one.
 */
export function demoNote(d: Pick<DemoDeviceResult, 'error' | 'quality' | 'dropped'>): string {
  const parts: string[] = [];
  if (d.error) parts.push(d.error);
  if (d.quality && d.quality.verdict !== 'clean') parts.push(d.quality.text);
  else if (d.dropped && d.dropped.ops + d.dropped.networks > 0) parts.push(`${d.dropped.ops + d.dropped.networks} disturbed measurements left out`);
  return parts.join('; ');
}

/** The demo's report page: the summary table and each device's evaluation report inline. */
function summaryHtml(space: string, devices: readonly DemoDeviceResult[], dashboard: string): string {
  const rows = devices.map((d) => `<tr><td>${esc(d.label)}</td><td><code>${esc(d.deviceId ?? '–')}</code></td><td>${d.measurements}</td><td>${d.networks}</td><td>${esc(d.kind ?? '–')}</td>
<td>${pct(d.metrics?.within10)}</td><td>${pct(d.metrics?.mape)}</td><td>${d.metrics ? d.metrics.spearman.toFixed(3) : '–'}</td><td>${d.predictionsPerSecond ? Math.round(d.predictionsPerSecond).toLocaleString('en-US') : '–'}</td><td>${esc(demoNote(d))}</td></tr>`);
  const frames = devices.filter((d) => d.report).map((d) => `<h2>${esc(d.label)}</h2><iframe src="${esc(d.report!.split('/').pop()!)}" title="${esc(d.label)}"></iframe>`);
  return `<!doctype html><html><head><meta charset="utf-8"><title>hwlat demo: ${esc(space)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}td:first-child,th:first-child,td:nth-child(2){text-align:left}iframe{width:100%;height:900px;border:1px solid #ddd}</style></head><body>
<h1>hwlat demo: ${esc(space)}</h1>
<p>Each device is one local agent (runtime backend and threads). Accuracy is on held-out networks the predictor never saw. Live dashboard: <a href="${esc(dashboard)}">${esc(dashboard)}</a> (while the demo's collector runs).</p>
<table><tr><th>agent</th><th>device</th><th>measurements</th><th>networks</th><th>predictor</th><th>±10%</th><th>MAPE</th><th>Spearman</th><th>predictions/s</th><th>note</th></tr>${rows.join('')}</table>
${frames.join('\n')}
</body></html>`;
}
