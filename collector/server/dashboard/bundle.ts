import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { savePredictor, type LatencyPredictor } from '../../../predictor/index.ts';
import type { BundleFile, PredictorBundle } from './types.ts';

/** File names a predictor directory may hold: a bundle naming anything else is refused. */
const FILE_NAME = /^[a-z]+(\.weights\.bin|\.json)$/;

/**
 * A predictor as one JSON document: the files savePredictor writes (predictor.json, the tfjs
 * models' topology and weights), text as utf8 and weights as base64.
 *
 * @example
 * const bundle = await predictorBundle(await cache.get(deviceId, 'fbnet'));
 * writePredictorBundle(bundle, 'models/fbnet'); // then `hwlat serve --model models/fbnet`
 */
export async function predictorBundle(predictor: LatencyPredictor): Promise<PredictorBundle> {
  const dir = mkdtempSync(join(tmpdir(), 'hwlat-bundle-'));
  try {
    await savePredictor(predictor, dir);
    const files: Record<string, BundleFile> = {};
    for (const name of readdirSync(dir).sort()) {
      const bytes = readFileSync(join(dir, name));
      files[name] = name.endsWith('.bin') ? { encoding: 'base64', data: bytes.toString('base64') } : { encoding: 'utf8', data: bytes.toString('utf8') };
    }
    return { format: 'hwlat-predictor-bundle/1', device: predictor.data.deviceId, space: predictor.data.space, createdAt: predictor.data.createdAt, files };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Writes a bundle back as a predictor directory (loadPredictor, `hwlat serve --model DIR`).
 * File names are checked (no paths): a bundle cannot write outside `dir`.
 */
export function writePredictorBundle(bundle: PredictorBundle, dir: string): void {
  if (bundle?.format !== 'hwlat-predictor-bundle/1') throw new TypeError(`'bundle.format' must be 'hwlat-predictor-bundle/1', got '${String(bundle?.format)}'`);
  if (!bundle.files || !bundle.files['predictor.json']) throw new TypeError(`'bundle.files' must hold predictor.json`);
  for (const name of Object.keys(bundle.files)) {
    if (!FILE_NAME.test(name)) throw new TypeError(`'bundle.files' names '${name}', which is not a predictor file name`);
  }
  mkdirSync(dir, { recursive: true });
  for (const [name, f] of Object.entries(bundle.files)) {
    if (f.encoding !== 'utf8' && f.encoding !== 'base64') throw new TypeError(`'bundle.files.${name}.encoding' must be 'utf8' or 'base64', got '${String(f.encoding)}'`);
    writeFileSync(join(dir, name), f.encoding === 'base64' ? Buffer.from(f.data, 'base64') : f.data);
  }
}
