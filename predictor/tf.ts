import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

let ready: Promise<string> | null = null;

/**
 * The one place that picks the tfjs backend: tfjs-node when it is installed (an optional
 * accelerator: it cannot install offline), otherwise the wasm backend that ships with its .wasm.
 */
export function initTf(): Promise<string> {
  ready ??= (async () => {
    try {
      // optional dependency: present only where a user installed it
      const name = '@tensorflow/tfjs-node';
      await import(/* @vite-ignore */ name);
      if (tf.findBackend('tensorflow')) {
        await tf.setBackend('tensorflow');
        return 'tensorflow';
      }
    } catch {
      // not installed: fall through to wasm
    }
    await tf.setBackend('wasm');
    await tf.ready();
    return tf.getBackend();
  })();
  return ready;
}

export { tf };
