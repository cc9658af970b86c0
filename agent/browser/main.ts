import * as ort from 'onnxruntime-web';
import type { DeviceProfile } from '../../protocol/index.ts';
import { runAgentLoop, type AgentSummary } from '../client/loop.ts';
import { CollectorRefusedError, type AgentEvent } from '../transport/ws-client.ts';
import { chooseBackend } from './choose-backend.ts';
import { browserProfile, probeBrowser } from './fingerprint.ts';
import { IdbOutbox } from './idb-outbox.ts';
import { emptyCounts, progressView, type DeviceJobs, type TabCounts } from './progress.ts';

/**
 * The /agent page: the browser device agent. Same loop (agent/client/loop.ts), harness,
 * protocol and ops-library as the Node agent; the runtime is onnxruntime-web and the outbox is
 * IndexedDB. URL parameters: `token` (required the first time; see takeToken), `backend` (auto | wasm | webgpu), `threads`,
 * `name`, `maxJobs`, `collectors` (other replicas to fail over to; see otherCollectors). The collector's HTML gives the ws path and the ort asset folder in data-*.
 *
 * `window.hwlat` mirrors the page's state for people debugging in devtools and for the e2e test.
 */

interface PageState {
  status: 'starting' | 'connecting' | 'running' | 'idle' | 'stopped' | 'error';
  message: string;
  device: DeviceProfile | null;
  fallbackReason: string | null;
  timerResolutionMs: number | null;
  crossOriginIsolated: boolean;
  counts: TabCounts;
  /** this device's jobs over the collector's campaigns (polled) */
  campaign: DeviceJobs | null;
  /** the Stop button was pressed */
  stopping: boolean;
  summary: AgentSummary | null;
  events: AgentEvent[];
}

const state: PageState = {
  status: 'starting',
  message: 'starting…',
  device: null,
  fallbackReason: null,
  timerResolutionMs: null,
  crossOriginIsolated: globalThis.crossOriginIsolated === true,
  counts: emptyCounts(),
  campaign: null,
  stopping: false,
  summary: null,
  events: [],
};
(globalThis as { hwlat?: PageState }).hwlat = state;

const $ = (id: string) => document.getElementById(id) as HTMLElement;

function render(): void {
  $('status').textContent = state.message;
  $('status').dataset.status = state.status;
  // progress only once the agent works (or has worked): not while loading, and never beside an error
  $('work').hidden = !['connecting', 'running', 'idle', 'stopped'].includes(state.status);
  $('stop').hidden = state.status === 'stopped' || state.stopping;
  const view = progressView(state.campaign, state.counts);
  const bar = $('progress') as HTMLProgressElement;
  bar.max = view.max;
  if (view.value === null) bar.removeAttribute('value');
  else bar.value = view.value;
  $('progress-text').textContent = view.jobs;
  $('counts').textContent = view.results;
  const d = state.device;
  if (d) {
    const rows: Array<[string, string]> = [
      ['device', `${d.id} · ${d.name}`],
      ['runtime', `onnxruntime-web ${d.runtime.version}, ${d.runtime.provider}, ${d.runtime.threads} thread(s)${state.crossOriginIsolated ? '' : ' (page not cross-origin isolated: 1 thread)'}`],
      ['hardware', `${d.hardware.cores} logical cores${d.hardware.memoryBytes ? `, ~${Math.round(d.hardware.memoryBytes / 2 ** 30)} GiB` : ''}, ${d.hardware.os} ${d.hardware.arch}`],
      ...d.hardware.gpus.map((g): [string, string] => ['gpu', `${g.vendor} ${g.model}`]),
      ['clock', state.timerResolutionMs === null ? '?' : `performance.now() ticks in ${(state.timerResolutionMs * 1000).toFixed(1)} µs; fast models are run several times per sample`],
      ...(state.fallbackReason ? [['note', `wasm, since WebGPU is not usable: ${state.fallbackReason}`] as [string, string]] : []),
    ];
    const dl = $('device');
    dl.replaceChildren(...rows.flatMap(([k, v]) => {
      const dt = document.createElement('dt');
      dt.textContent = k;
      const dd = document.createElement('dd');
      dd.textContent = v;
      return [dt, dd];
    }));
  }
}

function logLine(text: string): void {
  const li = document.createElement('li');
  li.textContent = `${new Date().toTimeString().slice(0, 8)} ${text}`;
  const log = $('log');
  log.prepend(li);
  while (log.childElementCount > 50) log.lastElementChild?.remove();
}

function describe(e: AgentEvent): string | null {
  switch (e.event) {
    case 'connected':
      return `connected to ${String(e.url)} (session ${String(e.session)})`;
    case 'failover':
      return `collector ${String(e.from)} failed; trying ${String(e.to)} (unacknowledged results go along)`;
    case 'disconnected':
      return `collector unreachable; retrying in ${String(e.retryInMs)} ms`;
    case 'lease':
      return `lease of ${String(e.jobs)} job(s)`;
    case 'result':
      return `measured ${String(e.key).slice(0, 80)}: median ${Number(e.median).toFixed(3)} ms`;
    case 'resend':
      return `re-sent ${String(e.count)} unacknowledged result(s)`;
    case 'job_failed':
      return `job failed (${String(e.stage)}): ${String(e.message).slice(0, 200)}`;
    case 'fatal':
      return `refused: ${String(e.message)}`;
    case 'idle':
      return 'no jobs for this device; waiting';
    default:
      return null;
  }
}

let pendingCheck: Promise<void> | null = null;
function refreshPending(outbox: IdbOutbox): void {
  pendingCheck ??= outbox
    .list()
    .then((l) => {
      state.counts.pending = l.length;
    })
    .catch(() => undefined)
    .finally(() => {
      pendingCheck = null;
      render();
    });
}

function onEvent(e: AgentEvent, outbox: IdbOutbox): void {
  state.events.push({ t: Date.now(), ...e });
  if (state.events.length > 500) state.events.splice(0, state.events.length - 500);
  const c = state.counts;
  switch (e.event) {
    case 'connecting':
      c.connections++;
      if (state.status !== 'running') Object.assign(state, { status: 'connecting', message: 'connecting to the collector…' });
      break;
    case 'connected':
      Object.assign(state, { status: 'running', message: 'connected: working through leases' });
      break;
    case 'disconnected':
      Object.assign(state, { status: 'connecting', message: `collector unreachable; reconnecting (results are kept and re-sent)` });
      break;
    case 'lease':
      c.leases++;
      Object.assign(state, { status: 'running', message: `measuring a lease of ${String(e.jobs)} job(s)` });
      break;
    case 'idle':
      Object.assign(state, { status: 'idle', message: 'all caught up: no jobs for this device right now' });
      break;
    case 'result':
      c.results++;
      if (e.quality === 'disturbed') c.disturbed++;
      break;
    case 'ack':
      c.acked += (e.resultIds as unknown[]).length;
      break;
    case 'resend':
      c.resent += Number(e.count) || 0;
      break;
    case 'job_failed':
      c.failedJobs++;
      break;
  }
  if (e.event === 'result' || e.event === 'ack' || e.event === 'resend') refreshPending(outbox);
  const line = describe(e);
  if (line) logLine(line);
  render();
}

async function pollCampaigns(deviceId: string, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    try {
      const res = await fetch('/api/campaigns', { cache: 'no-store' });
      if (res.ok) {
        const body = (await res.json()) as { campaigns: Array<{ progress: Array<{ deviceId: string; total: number; done: number; failed: number }> }> };
        const mine = body.campaigns.flatMap((c) => c.progress).filter((p) => p.deviceId === deviceId);
        state.campaign = mine.length === 0 ? null : mine.reduce((a, p) => ({ total: a.total + p.total, done: a.done + p.done, failed: a.failed + p.failed }), { total: 0, done: 0, failed: 0 });
        render();
      }
    } catch {
      // the collector is restarting: the agent loop reconnects, this just tries again
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

function intParam(params: URLSearchParams, name: string, fallback: number, least: number, most: number): number {
  const raw = params.get(name);
  if (raw === null || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < least || n > most) throw new RangeError(`'${name}' must be an integer from ${least} to ${most}, got '${raw}'`);
  return n;
}

/**
 * `?collectors=` — other replicas of this collector (on the same database), comma-separated, as
 * ws(s):// or http(s):// URLs (an http one means its agent endpoint at the same path as this page's):
 * the agent fails over to them when this page's collector goes away, and back. Those collectors must
 * allow this page's origin (`hwlat serve --allowed-host <this page's host>`), or they refuse the socket.
 */
function otherCollectors(params: URLSearchParams, own: URL): string[] {
  const raw = params.get('collectors');
  if (raw === null || raw.trim() === '') return [];
  const out: string[] = [];
  for (const part of raw.split(',').map((p) => p.trim()).filter((p) => p.length > 0)) {
    let url: URL;
    try {
      url = new URL(part);
    } catch {
      throw new TypeError(`'collectors' must be ws://, wss://, http:// or https:// URLs separated by commas; '${part}' is not one`);
    }
    if (url.protocol === 'http:' || url.protocol === 'https:') {
      const secure = url.protocol === 'https:';
      url = new URL(own.pathname, url.origin);
      url.protocol = secure ? 'wss:' : 'ws:';
    } else if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
      throw new TypeError(`'collectors' must be ws://, wss://, http:// or https:// URLs separated by commas; '${part}' is not one`);
    }
    if (url.href !== own.href && !out.includes(url.href)) out.push(url.href);
  }
  return out;
}

/** Where the tab keeps the token once it has left the address bar. */
const TOKEN_KEY = 'hwlat.token';

/**
 * The collector token: from the link the first time (`?token=` or `#token=`), which is then removed
 * from the address bar, and so from the history, bookmarks, screenshots and the Referer of later
 * requests; kept in this tab's session storage, so a reload still has it and closing the tab forgets it.
 */
function takeToken(): string {
  const url = new URL(location.href);
  const hash = new URLSearchParams(url.hash.slice(1));
  const fromUrl = url.searchParams.get('token') ?? hash.get('token');
  if (fromUrl) {
    try {
      sessionStorage.setItem(TOKEN_KEY, fromUrl);
    } catch {
      // storage disabled (a private window's policy): the token still serves this page's life
    }
    url.searchParams.delete('token');
    hash.delete('token');
    const rest = hash.toString();
    history.replaceState(history.state, '', `${url.pathname}${url.search}${rest ? `#${rest}` : ''}`);
    return fromUrl;
  }
  try {
    return sessionStorage.getItem(TOKEN_KEY) ?? '';
  } catch {
    return '';
  }
}

async function main(): Promise<void> {
  const token = takeToken();
  const params = new URLSearchParams(location.search);
  if (!token) throw new TypeError("no 'token' in the page's URL: open the link `hwlat serve --print-link` (or `hwlat demo`) prints (…/agent?token=…)");
  const want = params.get('backend') ?? 'auto';
  const threads = intParam(params, 'threads', 0, 0, 64);
  const maxJobs = intParam(params, 'maxJobs', 4, 1, 256);
  const name = params.get('name')?.trim() || undefined;
  const body = document.body.dataset;
  ort.env.wasm.wasmPaths = new URL(body.ortPath ?? '/agent/ort/', location.href).href;
  const wsUrl = new URL(body.wsPath ?? '/ws', location.href);
  wsUrl.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const collectors = [wsUrl.href, ...otherCollectors(params, wsUrl)];

  state.message = `loading onnxruntime-web (${want})…`;
  render();
  const chosen = await chooseBackend(want, threads);
  state.fallbackReason = chosen.fallbackReason ?? null;
  state.timerResolutionMs = (chosen.backend as { timerResolutionMs?: number }).timerResolutionMs ?? null;
  const probed = browserProfile(await probeBrowser(chosen.gpu), chosen.backend.info);
  const device = name ? { ...probed, name } : probed;
  state.device = device;
  document.title = `hwlat agent · ${device.name}`;
  const outbox = new IdbOutbox(device.id);
  refreshPending(outbox);
  const ctl = new AbortController();
  $('stop').addEventListener('click', () => {
    ctl.abort();
    state.stopping = true;
    state.message = 'stopping: finishing the measurement in hand…';
    render();
  });
  void pollCampaigns(device.id, ctl.signal);
  try {
    state.summary = await runAgentLoop({
      collector: collectors,
      token,
      backend: chosen.backend,
      device,
      outbox,
      maxJobs,
      log: (e) => onEvent(e, outbox),
      signal: ctl.signal,
    });
    Object.assign(state, { status: 'stopped', message: `stopped: ${state.summary.results} results, ${state.summary.pending} left in the outbox (sent when this page runs again)` });
  } finally {
    ctl.abort();
    await chosen.backend.dispose().catch(() => undefined);
    render();
  }
}

/** The error as the page says it: a refused token names the link to open instead of an agent's flags. */
function errorMessage(e: unknown): string {
  if (e instanceof CollectorRefusedError && e.code === 'unauthorized') {
    try {
      sessionStorage.removeItem(TOKEN_KEY); // a reload must not try the refused token again
    } catch {
      // storage disabled: nothing was kept
    }
    return "error: the collector refused this page's token: open the link `hwlat serve --print-link` (or `hwlat demo`) prints, with the current token";
  }
  return `error: ${(e as Error).message}`;
}

main().catch((e: unknown) => {
  Object.assign(state, { status: 'error', message: errorMessage(e) });
  render();
  console.error(e);
});
