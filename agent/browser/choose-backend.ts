import * as ort from 'onnxruntime-web';
import { createOrtWebBackend } from '../backends/ort-web.ts';
import type { RuntimeBackend } from '../backends/types.ts';
import { adapterInfo, type GpuAdapterInfo } from './fingerprint.ts';

/** What `?backend=` may ask for: auto (WebGPU where it works, else wasm), or one provider. */
export const PAGE_BACKENDS: readonly string[] = Object.freeze(['auto', 'wasm', 'webgpu']);

export interface ChosenBackend {
  backend: RuntimeBackend;
  /** the adapter measured with (webgpu), else null */
  gpu: GpuAdapterInfo | null;
  /** why WebGPU was not used, when `auto` fell back to wasm */
  fallbackReason?: string;
}

/**
 * Picks the page's runtime: WebGPU when `navigator.gpu` gives an adapter and onnxruntime-web's
 * WebGPU provider runs the probe model on it, else wasm (threads where the page is cross-origin
 * isolated, SIMD always: onnxruntime-web 1.30 ships SIMD builds only). `want: 'webgpu'` fails rather
 * than fall back, so a forced device id never holds wasm latencies.
 *
 * @example
 * const { backend, gpu, fallbackReason } = await chooseBackend('auto', 0);
 */
export async function chooseBackend(want: string, threads: number): Promise<ChosenBackend> {
  if (!PAGE_BACKENDS.includes(want)) throw new RangeError(`'backend' must be one of ${PAGE_BACKENDS.join(', ')}, got '${want}'`);
  let reason: string | undefined;
  if (want !== 'wasm') {
    const gpuApi = (globalThis.navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
    if (!gpuApi) {
      reason = 'navigator.gpu is missing (WebGPU needs a secure context: https or localhost, and a browser that has it on)';
    } else {
      const adapter = await gpuApi.requestAdapter().catch((e: unknown) => {
        reason = `requestAdapter failed: ${(e as Error).message}`;
        return null;
      });
      if (!adapter) {
        reason ??= 'navigator.gpu.requestAdapter() gave no adapter';
      } else {
        // onnxruntime-web measures on this very adapter, the one the profile describes
        (ort.env.webgpu as { adapter?: unknown }).adapter = adapter;
        try {
          const backend = await createOrtWebBackend({ provider: 'webgpu', threads });
          return { backend, gpu: await adapterInfo(adapter) };
        } catch (e) {
          reason = (e as Error).message;
        }
      }
    }
    if (want === 'webgpu') throw new Error(`WebGPU was asked for (?backend=webgpu) but cannot run here: ${reason}`);
  }
  const backend = await createOrtWebBackend({ provider: 'wasm', threads });
  return { backend, gpu: null, ...(reason ? { fallbackReason: reason } : {}) };
}
