import type { IncomingMessage, ServerResponse } from 'node:http';
import { getSpace, UnknownKeyError } from '../../../ops-library/index.ts';
import type { Store } from '../../store/index.ts';
import { HttpError, sendJson, unknownDevice, type Router } from '../http.ts';
import type { PredictorCache } from '../predictor-cache.ts';
import { AccuracyCache } from './accuracy.ts';
import { dashboardAsset, type Asset } from './assets.ts';
import { predictorBundle } from './bundle.ts';
import { EventHub, type EventHubOptions } from './events.ts';
import { DeviceQualityCache, deviceSummary, lutTable, spacesView } from './views.ts';

export interface DashboardRoutesOptions {
  store: Store;
  predictors: PredictorCache;
  /** agents connected now, shown live (AgentEndpoint.connectedAgents) */
  agents?: () => number;
  /** per-device data quality, shared with `GET /api/devices` (default: a cache of its own) */
  quality?: DeviceQualityCache;
  /** how often `/api/events` polls the store while someone listens (default 1000 ms; $HWLAT_DASHBOARD_POLL_MS) */
  pollMs?: number;
  /** change events (every replica's): passed on by `/api/events`, each making it re-read the store */
  notifier?: EventHubOptions['notifier'];
}

/** `?space=` as a known space: missing or unknown is a 400 naming the field. */
function spaceParam(url: URL): string {
  const name = url.searchParams.get('space');
  if (name === null || name === '') throw new HttpError(400, "space: '?space=NAME' is required (e.g. ?space=fbnet)", 'space');
  try {
    return getSpace(name).name;
  } catch (e) {
    if (e instanceof UnknownKeyError) throw new HttpError(400, `space: ${e.message}`, 'space');
    throw e;
  }
}

async function sendAsset(res: ServerResponse, asset: Asset): Promise<void> {
  const body = await asset.load();
  res.writeHead(200, { 'content-type': asset.contentType, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-cache' });
  res.end(body);
}

/**
 * The dashboard (`GET /`) and the endpoints it reads, all open like the other reads:
 *
 * - `GET /` the page; `GET /dashboard/:asset` its script and style, Vega and Vega-Lite from node_modules
 * - `GET /api/events` server-sent events: a `snapshot` (campaign progress, device measurement
 *   counts, agents online) on connect and whenever it changes (the store is polled, and read at
 *   once on a `change` event, which is passed on too; see EventHub)
 * - `GET /api/dashboard/spaces` the spaces with example architectures
 * - `GET /api/dashboard/devices/:id` measurement counts per level and space, data quality, LUT coverage per space
 * - `GET /api/dashboard/devices/:id/lut-table?space=S` the LUT per position × candidate, with a heatmap spec
 * - `GET /api/dashboard/devices/:id/accuracy?space=S` held-out predicted vs measured, with report.ts's specs
 * - `GET /api/devices/:id/model?space=S` the served predictor as a JSON bundle (writePredictorBundle unpacks it)
 *
 * Returns a handle whose close() ends the event streams.
 */
export function addDashboardRoutes(router: Router, o: DashboardRoutesOptions): { events: EventHub; close(): void } {
  const { store, predictors } = o;
  const envPoll = Number(process.env.HWLAT_DASHBOARD_POLL_MS);
  const events = new EventHub({ store, agents: o.agents, pollMs: o.pollMs ?? (envPoll >= 10 ? envPoll : 1000), notifier: o.notifier });
  const accuracy = new AccuracyCache(store);
  const quality = o.quality ?? new DeviceQualityCache(store);
  const deviceOr404 = async (id: string) => {
    if (!(await store.getDevice(id))) throw await unknownDevice(store, id);
  };
  router
    .on('GET', '/', (_q, res) => sendAsset(res, dashboardAsset('index.html')))
    .on('GET', '/dashboard/:asset', (_q, res, p) => {
      let asset: Asset;
      try {
        asset = dashboardAsset(p.asset as string);
      } catch (e) {
        if (e instanceof UnknownKeyError) throw new HttpError(404, e.message);
        throw e;
      }
      return sendAsset(res, asset);
    })
    .on('GET', '/api/events', (req, res) => events.subscribe(req, res))
    .on('GET', '/api/dashboard/spaces', (_q, res) => sendJson(res, 200, { spaces: spacesView() }))
    .on('GET', '/api/dashboard/devices/:id', async (_q, res, p) => sendJson(res, 200, await deviceSummary(store, p.id as string, quality)))
    .on('GET', '/api/dashboard/devices/:id/lut-table', async (_q, res, p, url) => {
      const space = spaceParam(url);
      await deviceOr404(p.id as string);
      sendJson(res, 200, await lutTable(store, p.id as string, space));
    })
    .on('GET', '/api/dashboard/devices/:id/accuracy', async (_q, res, p, url) => {
      const space = spaceParam(url);
      await deviceOr404(p.id as string);
      sendJson(res, 200, await accuracy.get(p.id as string, space));
    })
    .on('GET', '/api/devices/:id/model', async (_q, res, p, url) => {
      const space = spaceParam(url);
      await deviceOr404(p.id as string);
      const served = await predictors.resolve(p.id as string, space);
      const body = JSON.stringify({ ...(await predictorBundle(served.predictor)), source: served.source });
      const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, '_');
      res.writeHead(200, {
        'content-type': 'application/json; charset=utf-8',
        'content-disposition': `attachment; filename="model-${safe(p.id as string)}-${safe(space)}.json"`,
        'content-length': Buffer.byteLength(body),
      });
      res.end(body);
    });
  return { events, close: () => events.close() };
}
