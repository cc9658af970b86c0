import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { getSpace } from '../../ops-library/index.ts';
import type { LatencyPredictor } from '../../predictor/index.ts';
import { CampaignRequestSchema, MAX_MESSAGE_BYTES, type MeasurementLevel } from '../../protocol/index.ts';
import { StoreUnavailableError, type Store } from '../store/index.ts';
import { ChangePublisher, DataVersions, InProcessNotifier, ReplicaAgents, type ChangeNotifier } from '../events/index.ts';
import { AgentEndpoint, STORE_RETRY_MS } from './agents.ts';
import { httpStatusOf } from './error-status.ts';
import { bearerToken, tokenMatches } from './auth.ts';
import { HttpError, parseBody, readJson, Router, sendJson } from './http.ts';
import { planTasks } from './planner.ts';
import { fleetFewShotPlan } from '../fewshot.ts';
import { addPredictRoutes } from './predict-routes.ts';
import { addLatencyRoutes } from './latency-routes.ts';
import { addAgentPageRoutes } from './agent-page.ts';
import { addOnnxRoutes } from './onnx-routes.ts';
import { KernelModelCache } from '../kernel-models.ts';
import { addDashboardRoutes, DeviceQualityCache, devicesView } from './dashboard/index.ts';
import { PredictorCache } from './predictor-cache.ts';
import { StoreHealth } from './store-health.ts';
import { ConnectionLimiter, refuseUpgrade, startLiveness } from './ws-guard.ts';
import { AuthLimiter } from './auth-limiter.ts';
import { HostCheck } from './host-check.ts';

export interface CollectorOptions {
  store: Store;
  /** agents and write requests must present it */
  token: string;
  port?: number;
  host?: string;
  /** lease lifetime without a heartbeat (default 60 s) */
  leaseTtlMs?: number;
  /** heartbeat period asked of agents (default leaseTtlMs / 4) */
  heartbeatMs?: number;
  idleRetryMs?: number;
  log?: (event: Record<string, unknown>) => void;
  /** predictors to serve as they are (`hwlat serve --model DIR`); others are trained from the store on demand */
  predictors?: LatencyPredictor[];
  /** a ws connection that has not said a valid hello by then is closed (default 10 s) */
  helloTimeoutMs?: number;
  /** agent connections open at once, all addresses together (default 2000); past it: 503 */
  maxConnections?: number;
  /** agent connections from one address (default 256; a NAT or a reverse proxy is one address) */
  maxConnectionsPerAddress?: number;
  /** ws ping period; a connection silent for a whole period is dropped (default 30 s, 0 = off) */
  pingMs?: number;
  /**
   * whether prediction (`POST /api/predict`, `/api/predict/onnx`, `/api/latency/expected`,
   * `GET /api/devices/:id/model`) is open to anyone, like the other reads (default true); false
   * puts it behind the token (`hwlat serve --open-predict=false`)
   */
  openPredict?: boolean;
  /**
   * host names requests may name besides IP addresses and localhost (DNS rebinding protection;
   * e.g. the public name behind a reverse proxy); '*' allows any (see HostCheck)
   */
  allowedHosts?: string[];
  /** failed authentications one address may make per window before it gets 429s (default 10 per 60 s) */
  authFailures?: { max: number; windowMs: number };
  /**
   * how this collector and its replicas hear of each other's writes (collector/events): default an
   * InProcessNotifier (one collector on its database); replicas on one PostgreSQL pass a PgNotifier
   * (`notifierFor(db)` picks by the store's location). Every write through `store` is announced on
   * it; the dashboard's event stream and the predictor cache follow it. startCollector starts it and
   * closes it with the collector.
   */
  notifier?: ChangeNotifier;
}

/** The shortest token the collector accepts: 16 characters of a random token are ~95 bits. */
export const MIN_TOKEN_CHARS = 16;

/** The routes `openPredict: false` puts behind the token. */
const PREDICT_ROUTES: ReadonlyArray<[string, RegExp]> = [
  ['POST', /^\/api\/predict$/],
  ['POST', /^\/api\/predict\/onnx$/],
  ['POST', /^\/api\/latency\/expected$/],
  ['GET', /^\/api\/devices\/[^/]+\/model$/],
];

export interface Collector {
  /** http://host:port */
  readonly url: string;
  /** ws://host:port/ws, what agents connect to */
  readonly wsUrl: string;
  readonly port: number;
  readonly endpoint: AgentEndpoint;
  /** the predictors `POST /api/predict` serves, per device and space */
  readonly predictors: PredictorCache;
  /** the change events of this collector and its replicas */
  readonly notifier: ChangeNotifier;
  close(): Promise<void>;
}

export const AGENT_WS_PATH = '/ws';

function hostRefused(host: string | undefined): HttpError {
  return new HttpError(
    403,
    `requests must name this collector by an IP address, localhost or an allowed host name, not '${host ?? '(no Host header)'}' ` +
      `(DNS rebinding protection; \`hwlat serve --allowed-host NAME\` allows a name)`,
  );
}

/**
 * Starts the collector: HTTP API and the agents' ws endpoint on one port.
 *
 * @example
 * const store = openStore({ path: 'lat.sqlite' });
 * const collector = await startCollector({ store, token: 'secret', port: 8700 });
 * console.log(`agents: hwlat agent --collector ${collector.wsUrl} --token secret`);
 */
export async function startCollector(options: CollectorOptions): Promise<Collector> {
  if (typeof options.token !== 'string' || options.token.length < MIN_TOKEN_CHARS) {
    throw new RangeError(
      `'token' must be a string of at least ${MIN_TOKEN_CHARS} characters, got ${typeof options.token === 'string' ? `${options.token.length}` : typeof options.token}; ` +
        `generate one with \`openssl rand -hex 16\``,
    );
  }
  // the store's writes are announced to every replica (the writer included): their dashboards
  // and caches follow them (see CollectorOptions.notifier)
  const notifier = options.notifier ?? new InProcessNotifier();
  await notifier.start();
  const publisher = new ChangePublisher(notifier, { log: options.log });
  const store = publisher.wrap(options.store);
  const versions = new DataVersions(notifier);
  const openPredict = options.openPredict ?? true;
  const hosts = new HostCheck(options.allowedHosts);
  const authLimiter = new AuthLimiter(options.authFailures?.max, options.authFailures?.windowMs);
  const leaseTtlMs = options.leaseTtlMs ?? 60_000;
  const storeHealth = new StoreHealth();
  const endpoint = new AgentEndpoint({
    storeHealth,
    store,
    token: options.token,
    leaseTtlMs,
    heartbeatMs: options.heartbeatMs ?? Math.max(50, Math.floor(leaseTtlMs / 4)),
    idleRetryMs: options.idleRetryMs ?? 1000,
    helloTimeoutMs: options.helloTimeoutMs ?? 10_000,
    authLimiter,
    log: options.log,
  });
  // the dashboards show every replica's agents
  const fleetAgents = new ReplicaAgents({ notifier, local: () => endpoint.connectedAgents() });
  fleetAgents.start();
  const limiter = new ConnectionLimiter({ maxConnections: options.maxConnections ?? 2000, maxConnectionsPerAddress: options.maxConnectionsPerAddress ?? 256 });

  const predictors = new PredictorCache({ store, preloaded: options.predictors, versions, log: options.log });
  const quality = new DeviceQualityCache(store);

  const requireToken = (req: IncomingMessage) => {
    const address = req.socket.remoteAddress ?? 'unknown';
    const wait = authLimiter.blockedFor(address);
    if (wait > 0) throw new HttpError(429, `too many failed authentications from ${address}; try again in ${wait} s`, undefined, { 'retry-after': String(wait) });
    if (!tokenMatches(options.token, bearerToken(req.headers.authorization))) {
      authLimiter.failed(address);
      options.log?.({ event: 'auth_failed', address, path: req.url?.split('?')[0] });
      throw new HttpError(401, "this endpoint needs 'Authorization: Bearer <token>' with the collector's token");
    }
  };

  const router = new Router()
    // 503 while the store refuses writes (disk full): results wait in the agents' outboxes meanwhile
    .on('GET', '/api/health', (_q, res) => {
      const failure = storeHealth.current;
      sendJson(res, failure ? 503 : 200, { ok: !failure, agents: endpoint.connectedAgents(), store: failure ? { writable: false, ...failure } : { writable: true } });
    })
    // each device with the quality of its measurements (conditions/quality.ts, snake_case)
    .on('GET', '/api/devices', async (_q, res) => sendJson(res, 200, { devices: await devicesView(store, quality) }))
    .on('GET', '/api/measurements', async (_q, res, _p, url) => {
      const level = url.searchParams.get('level') ?? undefined;
      if (level !== undefined && level !== 'op' && level !== 'network') throw new HttpError(400, `'level' must be 'op' or 'network', got '${level}'`, 'level');
      const limitRaw = url.searchParams.get('limit');
      const limit = limitRaw === null ? 1000 : Number(limitRaw);
      if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) throw new HttpError(400, `'limit' must be an integer in 1..100000, got '${limitRaw}'`, 'limit');
      const filter = {
        deviceId: url.searchParams.get('device') ?? undefined,
        level: level as MeasurementLevel | undefined,
        space: url.searchParams.get('space') ?? undefined,
      };
      sendJson(res, 200, { total: await store.countMeasurements(filter), measurements: await store.listMeasurements({ ...filter, limit }) });
    })
    .on('GET', '/api/campaigns', async (_q, res) => {
      const campaigns = [];
      for (const c of await store.listCampaigns()) campaigns.push({ ...c, progress: await store.campaignProgress(c.id) });
      sendJson(res, 200, { campaigns });
    })
    .on('GET', '/api/campaigns/:id', async (_q, res, p) => {
      const c = await store.getCampaign(p.id as string);
      if (!c) throw new HttpError(404, `unknown campaign '${p.id}'`);
      sendJson(res, 200, { ...c, progress: await store.campaignProgress(c.id) });
    })
    .on('POST', '/api/campaigns', async (req, res) => {
      requireToken(req);
      const request = parseBody(CampaignRequestSchema, await readJson(req));
      // the few-shot plan reads the fleet's measurements (asynchronously) before the tasks are planned
      const plan = request.fewshot ? await fleetFewShotPlan(store, getSpace(request.space).name, request.fewshot, request.seed) : undefined;
      const tasks = planTasks(request, plan && (() => plan));
      const campaign = await store.createCampaign({ id: `camp-${randomUUID().slice(0, 8)}`, createdAt: new Date().toISOString(), request, tasks });
      storeHealth.ok();
      options.log?.({ event: 'campaign', id: campaign.id, space: request.space, tasks: tasks.length });
      sendJson(res, 201, { ...campaign, progress: await store.campaignProgress(campaign.id) });
    });
  addPredictRoutes(router, { store, predictors });
  addLatencyRoutes(router, { predictors });
  addAgentPageRoutes(router, { wsPath: AGENT_WS_PATH, log: options.log });
  const dashboard = addDashboardRoutes(router, { store, predictors, quality, agents: () => fleetAgents.total(), notifier });
  addOnnxRoutes(router, { store, predictors, kernelModels: new KernelModelCache(store) });

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      try {
        if (!hosts.hostAllowed(req.headers.host)) throw hostRefused(req.headers.host);
        const url = new URL(req.url ?? '/', 'http://collector');
        const method = req.method ?? 'GET';
        const { handler, params } = router.match(method, url.pathname);
        if (!openPredict && PREDICT_ROUTES.some(([m, re]) => m === method && re.test(url.pathname))) requireToken(req);
        await handler(req, res, params, url);
      } catch (e) {
        const status = httpStatusOf(e);
        if (e instanceof HttpError) for (const [k, v] of Object.entries(e.headers)) res.setHeader(k, v);
        if (e instanceof StoreUnavailableError) {
          storeHealth.failed(e);
          res.setHeader('retry-after', String(Math.ceil(STORE_RETRY_MS / 1000)));
        }
        if (status >= 500) options.log?.({ event: 'http_error', method: req.method, path: req.url?.split('?')[0], message: (e as Error).message });
        if (!res.headersSent) sendJson(res, status, { error: (e as Error).message, ...(e instanceof HttpError && e.field ? { field: e.field } : {}) });
        else res.end();
      }
    })();
  });

  // the hard frame limit is well above the protocol's, so an oversized message gets an error reply
  // naming its size instead of a dropped connection
  const wss = new WebSocketServer({ noServer: true, maxPayload: 16 * MAX_MESSAGE_BYTES });
  wss.on('connection', (ws, req: IncomingMessage) => endpoint.handle(ws, req.socket.remoteAddress ?? 'unknown'));
  const pingMs = options.pingMs ?? 30_000;
  const liveness = pingMs > 0 ? startLiveness(wss, pingMs, () => options.log?.({ event: 'ws_dead', afterMs: pingMs })) : null;
  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => {});
    const path = new URL(req.url ?? '/', 'http://collector').pathname;
    if (path !== AGENT_WS_PATH) {
      refuseUpgrade(socket, 404, `no ws endpoint at ${path}; agents connect to ${AGENT_WS_PATH}`);
      return;
    }
    const address = req.socket.remoteAddress ?? 'unknown';
    if (!hosts.hostAllowed(req.headers.host)) {
      refuseUpgrade(socket, 403, hostRefused(req.headers.host).message);
      return;
    }
    if (!hosts.originAllowed(req.headers.origin, req.headers.host)) {
      options.log?.({ event: 'ws_refused', address, reason: `origin '${req.headers.origin}'` });
      refuseUpgrade(socket, 403, `a page from '${req.headers.origin}' may not connect to this collector; only its own pages (and agents outside a browser) may`);
      return;
    }
    // every ws connection authenticates (its hello): an address that failed too often waits
    const wait = authLimiter.blockedFor(address);
    if (wait > 0) {
      refuseUpgrade(socket, 429, `too many failed authentications from ${address}; try again in ${wait} s`, wait);
      return;
    }
    // every connection counts from its upgrade until its socket closes, silent ones included
    const refused = limiter.admit(address);
    if (refused) {
      options.log?.({ event: 'ws_refused', address, reason: refused });
      refuseUpgrade(socket, 503, `${refused}; try again later`, 5);
      return;
    }
    socket.once('close', () => limiter.release(address));
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  const stopEvents = async () => {
    dashboard.close();
    await fleetAgents.close();
    await publisher.flush();
    versions.close();
    await notifier.close();
  };
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 8700, options.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    await stopEvents();
    throw e;
  }
  // out of file descriptors (EMFILE on accept) and the like: logged, never the end of the process
  server.on('error', (e) => options.log?.({ event: 'server_error', message: e.message }));
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const shownHost = host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host;
  return {
    url: `http://${shownHost}:${addr.port}`,
    wsUrl: `ws://${shownHost}:${addr.port}${AGENT_WS_PATH}`,
    port: addr.port,
    endpoint,
    predictors,
    notifier,
    async close() {
      liveness?.stop();
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
      server.closeAllConnections?.();
      await new Promise<void>((r) => server.close(() => r()));
      await stopEvents();
    },
  };
}
