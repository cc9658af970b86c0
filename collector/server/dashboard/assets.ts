import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lookup } from '../../../ops-library/index.ts';

/** The page's own files (HTML, CSS and the TypeScript entry that esbuild bundles). */
const PAGE_DIR = fileURLToPath(new URL('../../dashboard/page/', import.meta.url));
const require = createRequire(import.meta.url);
/** a package's build folder, found through a path its `exports` allow */
const buildDir = (exported: string) => dirname(require.resolve(exported));

export interface Asset {
  contentType: string;
  /** the bytes, read (or built) once and kept */
  load(): Promise<string>;
}

const once = (f: () => Promise<string>): (() => Promise<string>) => {
  let p: Promise<string> | undefined;
  return () => {
    p ??= f();
    // a failed build is retried on the next request, not cached
    p.catch(() => (p = undefined));
    return p;
  };
};
const file = (path: () => string) => once(async () => readFileSync(path(), 'utf8'));

/** Bundles the page's TypeScript with esbuild (in memory; ~50 ms, once per process). */
async function bundlePage(): Promise<string> {
  const { build } = await import('esbuild');
  const out = await build({
    entryPoints: [join(PAGE_DIR, 'main.ts')],
    bundle: true,
    write: false,
    format: 'iife',
    target: 'es2020',
    minify: true,
    legalComments: 'none',
    logLevel: 'silent',
  });
  return (out.outputFiles[0] as { text: string }).text;
}

/**
 * What `GET /dashboard/:name` serves, by name: a frozen table, so a request can only name one of
 * these (no path from the URL ever reaches the file system). Vega and Vega-Lite are their own
 * browser builds from node_modules: no CDN.
 */
export const DASHBOARD_ASSETS: Readonly<Record<string, Asset>> = Object.freeze({
  'index.html': { contentType: 'text/html; charset=utf-8', load: file(() => join(PAGE_DIR, 'index.html')) },
  'style.css': { contentType: 'text/css; charset=utf-8', load: file(() => join(PAGE_DIR, 'style.css')) },
  'app.js': { contentType: 'text/javascript; charset=utf-8', load: once(bundlePage) },
  'vega.min.js': { contentType: 'text/javascript; charset=utf-8', load: file(() => join(buildDir('vega/vega-schema.json'), 'vega.min.js')) },
  'vega-lite.min.js': {
    contentType: 'text/javascript; charset=utf-8',
    load: file(() => join(buildDir('vega-lite/vega-lite-schema.json'), 'vega-lite.min.js')),
  },
});

/** The asset called `name`; an unknown name throws UnknownKeyError listing the known ones. */
export function dashboardAsset(name: string): Asset {
  return lookup(DASHBOARD_ASSETS, 'dashboard asset', name);
}
