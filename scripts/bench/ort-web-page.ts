// Browser side of scripts/bench/ort-web.ts: the same models, the same harness, onnxruntime-web in the page.
import * as ort from 'onnxruntime-web';
import { createOrtWebBackend } from '../../agent/backends/ort-web.ts';
import type { LoadedModel } from '../../agent/backends/types.ts';
import { measureInterleaved } from '../../agent/harness/harness.ts';
import { benchModels } from './ort-web-models.ts';

async function main(): Promise<void> {
  ort.env.wasm.wasmPaths = new URL('/agent/ort/', location.href).href;
  const q = new URLSearchParams(location.search);
  const backend = await createOrtWebBackend({ provider: q.get('provider') ?? 'wasm', threads: 1 });
  const models = benchModels();
  const loaded: LoadedModel[] = [];
  for (const [, bytes] of models) loaded.push(await backend.load(bytes));
  const { results } = await measureInterleaved(loaded, { warmup: 3, minRepeats: 20, minTimeMs: Number(q.get('minTimeMs') ?? 300) });
  (globalThis as { __bench?: unknown }).__bench = {
    info: backend.info,
    timerResolutionMs: (backend as unknown as { timerResolutionMs: number }).timerResolutionMs,
    rows: models.map(([name], i) => ({ name, median: results[i]!.stats.median, cv: results[i]!.stats.cv, runsPerSample: loaded[i]!.runsPerSample ?? 1 })),
  };
  await backend.dispose();
}
main().catch((e: unknown) => ((globalThis as { __bench?: unknown }).__bench = { error: String(e) }));
