// Browser entry (bundled by tests/e2e/browser-contract.test.ts with the collector's esbuild setup):
// runs the backend contract on onnxruntime-web inside the page, for each provider in ?providers=,
// and leaves the outcome in window.__contract for the test to read.
import * as ort from 'onnxruntime-web';
import { createOrtWebBackend } from '../../agent/backends/ort-web.ts';
import { contractCases } from './backend-contract.ts';

interface Outcome {
  provider: string;
  name: string;
  ok: boolean;
  error?: string;
  ms: number;
}

async function main(): Promise<void> {
  ort.env.wasm.wasmPaths = new URL('/agent/ort/', location.href).href;
  const providers = (new URLSearchParams(location.search).get('providers') ?? 'wasm').split(',');
  const results: Outcome[] = [];
  for (const provider of providers) {
    for (const c of contractCases({ label: `ort-web:${provider} (chromium)`, backend: 'ort-web', provider, create: createOrtWebBackend })) {
      const t0 = performance.now();
      try {
        await c.run();
        results.push({ provider, name: c.name, ok: true, ms: performance.now() - t0 });
      } catch (e) {
        results.push({ provider, name: c.name, ok: false, error: `${(e as Error).name}: ${(e as Error).message}`, ms: performance.now() - t0 });
      }
    }
  }
  (globalThis as { __contract?: unknown }).__contract = { done: true, results };
}

main().catch((e: unknown) => {
  (globalThis as { __contract?: unknown }).__contract = { done: true, results: [], error: String((e as Error)?.stack ?? e) };
});
