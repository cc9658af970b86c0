import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { AGENT_PAGE_ENTRY, bundleBrowserEntry, type BrowserBundle } from './agent-bundle.ts';
import { HttpError, type Router } from './http.ts';

/** Where the page is served; `/agent?token=…` is the link `hwlat serve` prints. */
export const AGENT_PAGE_PATH = '/agent';
const ORT_PATH = `${AGENT_PAGE_PATH}/ort/`;
/** onnxruntime-web's runtime files, fetched by the page at run time: nothing else is served from node_modules. */
const ORT_FILE = /^ort-wasm-simd-threaded(\.jsep|\.jspi|\.asyncify)?\.(wasm|mjs)$/;

/** onnxruntime-web's dist folder (its exports map names the .wasm files, not package.json). */
function ortDistDir(): string {
  return dirname(createRequire(import.meta.url).resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm'));
}

/**
 * Cross-origin isolation (COOP + COEP): the page gets SharedArrayBuffer, so onnxruntime-web can run
 * wasm threads, and performance.now() ticks in 5 µs instead of 100 µs in Chromium. Every asset is
 * same-origin, so require-corp costs nothing.
 */
function isolationHeaders(res: ServerResponse): void {
  // the page's URL holds the token on the first load: it must not travel in a Referer
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
}

function escapeAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

function pageHtml(wsPath: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>hwlat agent</title>
<link rel="icon" href="data:,">
<style>
  body { font: 15px/1.45 system-ui, sans-serif; margin: 0; padding: 1rem; max-width: 46rem; color: #1b1f24; }
  h1 { font-size: 1.25rem; margin: 0 0 .5rem; }
  #status { font-weight: 600; }
  #status[data-status="error"] { color: #b42318; }
  #status[data-status="connecting"] { color: #b54708; }
  progress { width: 100%; height: 1.25rem; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: .15rem .75rem; font-size: .85rem; }
  dt { color: #57606a; } dd { margin: 0; overflow-wrap: anywhere; }
  ol { font: 12px/1.4 ui-monospace, monospace; padding-left: 1.2rem; color: #3b434b; }
  button { font: inherit; padding: .3rem .9rem; }
  [hidden] { display: none !important; }
</style>
</head>
<body data-ws-path="${escapeAttr(wsPath)}" data-ort-path="${escapeAttr(ORT_PATH)}">
<main>
  <h1>hwlat browser agent</h1>
  <p id="status" data-status="starting">loading…</p>
  <section id="work" hidden>
    <progress id="progress" max="1"></progress>
    <p><span id="progress-text"></span><br><small id="counts"></small></p>
    <button id="stop" type="button">Stop</button>
    <p><small>Keep this tab in front while it measures: browsers slow down background tabs, which would show up as latency.</small></p>
  </section>
  <dl id="device"></dl>
  <ol id="log"></ol>
</main>
<noscript>This page measures neural-network latency with JavaScript and WebAssembly; please enable JavaScript.</noscript>
<script type="module" src="${AGENT_PAGE_PATH}/app.js"></script>
</body>
</html>
`;
}

export interface AgentPageOptions {
  /** the agents' ws path on this server, e.g. '/ws' */
  wsPath: string;
  log?: (event: Record<string, unknown>) => void;
}

/**
 * Adds the browser agent's routes: `GET /agent` (the page), `/agent/app.js` (agent/browser bundled by
 * esbuild on the first request, then kept for the life of the server) and `/agent/ort/<file>`
 * (onnxruntime-web's .wasm/.mjs from node_modules). The page itself needs no token; its ws `hello`
 * carries the one in its URL, which the page then removes from the address bar (keeping it in the
 * tab's session storage).
 *
 * @example
 * addAgentPageRoutes(router, { wsPath: AGENT_WS_PATH });
 * // a phone opens http://<lan-ip>:8700/agent?token=…
 */
export function addAgentPageRoutes(router: Router, options: AgentPageOptions): Router {
  let bundle: Promise<BrowserBundle> | null = null;
  const distDir = ortDistDir();
  const html = pageHtml(options.wsPath);
  return router
    .on('GET', AGENT_PAGE_PATH, (_req, res) => {
      isolationHeaders(res);
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache', 'content-length': Buffer.byteLength(html) });
      res.end(html);
    })
    .on('GET', `${AGENT_PAGE_PATH}/app.js`, async (_req, res) => {
      bundle ??= bundleBrowserEntry(AGENT_PAGE_ENTRY).then(
        (b) => {
          options.log?.({ event: 'agent_page_bundled', bytes: b.code.length, buildMs: Math.round(b.buildMs) });
          return b;
        },
        (e: unknown) => {
          bundle = null; // a fixed source builds on the next request
          throw e;
        },
      );
      const { code } = await bundle;
      isolationHeaders(res);
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache', 'content-length': Buffer.byteLength(code) });
      res.end(code);
    })
    .on('GET', `${AGENT_PAGE_PATH}/ort/:file`, async (_req, res, params) => {
      const file = params.file ?? '';
      if (!ORT_FILE.test(file)) throw new HttpError(404, `no onnxruntime-web file '${file}'`);
      const body = await readFile(join(distDir, file)).catch(() => {
        throw new HttpError(404, `onnxruntime-web file '${file}' is missing from node_modules`);
      });
      isolationHeaders(res);
      res.writeHead(200, {
        'content-type': file.endsWith('.wasm') ? 'application/wasm' : 'text/javascript; charset=utf-8',
        'cache-control': 'public, max-age=86400',
        'content-length': body.length,
      });
      res.end(body);
    });
}
