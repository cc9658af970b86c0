// The runtime-backend contract: the same checks for every backend, in Node (ort-node, ort-web's
// wasm) and in headless Chromium (ort-web wasm and WebGPU, bundled by tests/agent/contract-page.ts).
// No Node imports here, and no node:test or node:assert: the browser runs this file too. Node test
// files register the cases with runTest (tests/agent/run-contract.ts), hono's runtime-test style.
import { measureOne } from '../../agent/harness/harness.ts';
import type { BackendOptions, LoadedModel, RuntimeBackend } from '../../agent/backends/types.ts';
import { RuntimeInfoSchema } from '../../protocol/index.ts';
import { probeModel, tinyConv, tinyMatMul } from './models.ts';

export interface ContractTarget {
  /** shown in the test names, e.g. 'ort-web:wasm (node)' */
  label: string;
  /** the registered backend name the info must report */
  backend: string;
  /** the provider to create and the one info must report */
  provider: string;
  create(options: BackendOptions): Promise<RuntimeBackend>;
}

export interface ContractCase {
  name: string;
  run(): Promise<void>;
}

class ContractError extends Error {
  override readonly name = 'ContractError';
}

function expect(cond: unknown, message: string): asserts cond {
  if (!cond) throw new ContractError(message);
}

function same(actual: unknown, expected: unknown, what: string): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  expect(a === e, `${what}: expected ${e}, got ${a}`);
}

async function rejects(p: Promise<unknown>, check: (e: Error) => boolean, what: string): Promise<void> {
  let error: unknown = null;
  try {
    await p;
  } catch (e) {
    error = e;
  }
  expect(error instanceof Error, `${what}: expected a rejection, got none`);
  expect(check(error as Error), `${what}: unexpected error ${(error as Error).name}: ${(error as Error).message}`);
}

/** Creates the backend (1 thread), runs `body`, always disposes. */
async function withBackend(t: ContractTarget, body: (b: RuntimeBackend) => Promise<void>): Promise<void> {
  const backend = await t.create({ provider: t.provider, threads: 1 });
  try {
    await body(backend);
  } finally {
    await backend.dispose();
  }
}

/**
 * Every check of the contract for one backend, in order. Cheap on purpose (tiny models, few
 * repeats): the browser's WebGPU here is a software adapter.
 *
 * @example
 * for (const c of contractCases({ label: 'ort-node', backend: 'ort-node', provider: 'cpu', create: createOrtNodeBackend })) await c.run();
 */
export function contractCases(t: ContractTarget): ContractCase[] {
  return [
    {
      name: 'reports a valid runtime: its name, the provider asked for, a version, threads',
      run: () =>
        withBackend(t, async (b) => {
          const info = RuntimeInfoSchema.parse(b.info);
          same(info.backend, t.backend, 'info.backend');
          same(info.provider, t.provider, 'info.provider');
          expect(/^\d+\.\d+\.\d+/.test(info.version), `info.version looks like a version, got '${info.version}'`);
          same(info.threads, 1, 'info.threads');
          expect(Object.isFrozen(b.info), 'info is frozen');
        }),
    },
    {
      name: 'runs the probe model and reports its output shape, the dynamic batch at 1',
      run: () =>
        withBackend(t, async (b) => {
          const m = await b.load(probeModel());
          await m.run();
          await m.run();
          same(await m.outputShapes(), { output: [1, 16] }, 'probe output shapes');
        }),
    },
    {
      name: 'runs ops-library models (conv, linear) with seeded inputs',
      run: () =>
        withBackend(t, async (b) => {
          const conv = await b.load(tinyConv());
          const mm = await b.load(tinyMatMul());
          // outputShapes before any run() makes a run itself
          same(await conv.outputShapes(), { output: [1, 8, 6, 6] }, 'conv output shapes');
          same(await mm.outputShapes(), { output: [1, 16] }, 'linear output shapes');
          await conv.dispose();
          await mm.run();
        }),
    },
    {
      name: 'the harness measures it: finite positive statistics, runsPerSample a positive integer',
      run: () =>
        withBackend(t, async (b) => {
          const m: LoadedModel = await b.load(tinyConv());
          const k = m.runsPerSample ?? 1;
          expect(Number.isInteger(k) && k >= 1 && k <= 1000, `runsPerSample is an integer in 1..1000, got ${k}`);
          const { stats, samples } = await measureOne(m, { warmup: 1, minRepeats: 3, minTimeMs: 0 });
          same(samples.length, 3, 'samples');
          expect(stats.median > 0 && Number.isFinite(stats.median), `median > 0, got ${stats.median}`);
          expect(stats.min <= stats.median && stats.median <= stats.p90 + 1e-9, `min <= median <= p90: ${JSON.stringify(stats)}`);
        }),
    },
    {
      name: 'load() refuses what is not ONNX bytes: TypeError naming model, and malformed bytes',
      run: () =>
        withBackend(t, async (b) => {
          await rejects(b.load('model.onnx' as unknown as Uint8Array), (e) => e.name === 'TypeError' && e.message.includes("'model'"), 'load(string)');
          await rejects(b.load(new Uint8Array([1, 2, 3])), () => true, 'load(garbage)');
          // the backend still works after a refused load
          const m = await b.load(probeModel());
          await m.run();
        }),
    },
    {
      name: 'creating it with an unknown provider or bad threads is a RangeError naming the option',
      run: async () => {
        await rejects(t.create({ provider: 'tpu' }), (e) => e.name === 'RangeError' && e.message.includes("'provider'") && e.message.includes('tpu'), "provider 'tpu'");
        await rejects(t.create({ provider: t.provider, threads: -1 }), (e) => e.name === 'RangeError' && e.message.includes("'threads'"), 'threads -1');
      },
    },
  ];
}
