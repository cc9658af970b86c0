import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The page's entry point. */
export const AGENT_PAGE_ENTRY = fileURLToPath(new URL('../../agent/browser/main.ts', import.meta.url));
const WS_SHIM = fileURLToPath(new URL('../../agent/browser/ws-shim.ts', import.meta.url));

/** Imports that must never reach a browser bundle; a match fails the build and names the importer. */
const NODE_ONLY = /^(node:.*|fs|fs\/promises|path|os|crypto|child_process|net|http|https|better-sqlite3|onnxruntime-node|systeminformation)$/;

/** Fails the build on a Node-only import instead of shipping a page that breaks on load. */
const browserOnly: Plugin = {
  name: 'hwlat-browser-only',
  setup(b) {
    // the project's own imports; packages in node_modules map their optional Node imports away
    // through their "browser" field (seedrandom's require('crypto')), which esbuild honours
    b.onResolve({ filter: NODE_ONLY }, (args) =>
      args.importer.includes('/node_modules/')
        ? undefined
        : { errors: [{ text: `'${args.path}' (imported by ${args.importer.replace(ROOT, '')}) is Node-only and cannot go into the browser bundle; import a narrower file` }] },
    );
  },
};

export interface BrowserBundle {
  /** the ES module */
  code: string;
  /** bundled source files, relative to the repository root */
  inputs: string[];
  buildMs: number;
}

/**
 * Bundles a browser entry point (the /agent page, or a test page) with esbuild: ESM for current
 * browsers, `ws` mapped to the browser socket shim, onnxruntime-web's build that loads its .wasm
 * from `env.wasm.wasmPaths` (served by the collector from node_modules, no CDN). A Node-only import
 * anywhere in the graph fails the build with the importer's name.
 *
 * @example
 * const { code, inputs } = await bundleBrowserEntry(AGENT_PAGE_ENTRY);
 */
export async function bundleBrowserEntry(entry: string, options: { minify?: boolean } = {}): Promise<BrowserBundle> {
  if (typeof entry !== 'string' || entry.length === 0) throw new TypeError(`'entry' must be a file path, got ${JSON.stringify(entry)}`);
  const t0 = performance.now();
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    metafile: true,
    minify: options.minify ?? true,
    legalComments: 'none',
    logLevel: 'silent',
    alias: { ws: WS_SHIM },
    // onnxruntime-web's build without the wasm inlined: it fetches ort-wasm-*.{mjs,wasm} from wasmPaths
    conditions: ['onnxruntime-web-use-extern-wasm'],
    plugins: [browserOnly],
  });
  const out = result.outputFiles[0];
  if (!out) throw new Error(`esbuild produced no output for ${entry}`);
  return { code: out.text, inputs: Object.keys(result.metafile.inputs), buildMs: performance.now() - t0 };
}
