import { createRequire } from 'node:module';
import * as ort from 'onnxruntime-web';
import { makeFeedsWith, type TensorClass } from './input-feeds.ts';
import type { ProfileKernelsOptions } from './ort-kernels.ts';
import { kernelsFromProfile, KernelProfileError, parseProfileJson, type KernelProfileResult } from './ort-profile.ts';
import { setUpThreads } from './ort-web.ts';

// What onnxruntime-web 1.30's wasm build offers, in Node (checked here, see the tests):
// - `enableProfiling` works, but the wasm runtime has no file system: at endProfiling() ORT writes
//   the profile's JSON to stdout, which emscripten's Node glue prints with fs.writeSync(1, …),
//   and onnxruntime-web frees the file name it returns without reading anything. So the profile
//   is taken from those writes, diverted for the duration of the synchronous endProfiling() call.
// - `optimizedModelFilePath` does not: writing the file goes to a descriptor the glue does not
//   have, and the process dies with "TypeError: Cannot read properties of null (reading 'push')"
//   inside fd_write. So kernels are joined to the source graph by node name (wasm keeps a fused
//   node's head name, e.g. a FusedConv named as its Conv) and their op comes from the profile.
// Node only (node:module): the browser page bundles ort-web.ts, never this file.

const nodeRequire = createRequire(import.meta.url);

/** Runs `fn` with writes to fd 1 captured (and not printed); returns what was written. */
function captureStdout(fn: () => void): string {
  const fs = nodeRequire('fs') as typeof import('node:fs');
  const original = fs.writeSync;
  let text = '';
  // emscripten's print() looks fs.writeSync up at each call, on the one shared module object
  (fs as { writeSync: unknown }).writeSync = (fd: number, data: unknown, ...rest: unknown[]) => {
    if (fd === 1 && typeof data === 'string') {
      text += data;
      return Buffer.byteLength(data);
    }
    return (original as (...a: unknown[]) => number).call(fs, fd, data, ...rest);
  };
  try {
    fn();
  } finally {
    (fs as { writeSync: unknown }).writeSync = original;
  }
  return text;
}

/**
 * profileKernels for onnxruntime-web's wasm runtime in Node: the kernels the wasm build really
 * runs, timed in context by its profiler. Without an optimised graph, each kernel's op is the
 * profile's op name (contrib ops qualified as com.microsoft) and its attributes those of the source
 * node of the same name; a fused kernel's activation is read from the nodes it covers.
 * `threads` is the process's wasm thread count (fixed by its first session, as for the backend).
 *
 * @example
 * const p = await profileKernelsWasm(bytes, { threads: 1, runs: 20, warmup: 3 });
 * console.log(p.kernels.map((k) => `${k.op} ${k.ms.toFixed(3)}`)); // ['com.microsoft:FusedConv 0.031', …]
 */
export async function profileKernelsWasm(bytes: Uint8Array, options: Omit<ProfileKernelsOptions, 'provider'> = {}): Promise<KernelProfileResult> {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`'bytes' must be a Uint8Array of ONNX bytes, got ${typeof bytes}`);
  const runs = options.runs ?? 20;
  const warmup = options.warmup ?? 3;
  for (const [name, v, min] of [['threads', options.threads ?? 1, 0], ['runs', runs, 1], ['warmup', warmup, 0]] as const) {
    if (!Number.isInteger(v) || v < min) throw new RangeError(`'${name}' must be an integer >= ${min}, got ${String(v)}`);
  }
  setUpThreads(options.threads ?? 1);
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all', executionMode: 'sequential', enableProfiling: true });
  let text: string;
  try {
    const feeds = makeFeedsWith(ort.Tensor as unknown as TensorClass, session) as Record<string, ort.Tensor>;
    for (let i = 0; i < warmup + runs; i++) {
      const out = await session.run(feeds);
      for (const name in out) out[name]?.dispose();
    }
  } finally {
    text = captureStdout(() => session.endProfiling());
    await session.release();
  }
  const start = text.indexOf('[');
  if (start < 0) throw new KernelProfileError('onnxruntime-web printed no profile at endProfiling(): its wasm glue may no longer write to stdout');
  return kernelsFromProfile(parseProfileJson(text.slice(start)), { source: bytes, warmup });
}
