import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LatencyPredictor } from './predictor.ts';
import { loadArtifacts, saveArtifacts } from './regressors.ts';
import type { PredictorData } from './types.ts';

const META = 'predictor.json';
const ENC_JSON = 'encoding.json';
const ENC_BIN = 'encoding.weights.bin';

/**
 * Writes a predictor as a directory: predictor.json (device, space, calibration, LUT, kernel
 * regressors, the linear correction, metrics, training summary) and the encoding MLP in tfjs's
 * layers format (encoding.json + encoding.weights.bin). It loads without the database.
 *
 * @example
 * await savePredictor(predictor, 'models/fbnet');
 */
export async function savePredictor(predictor: LatencyPredictor, dir: string): Promise<void> {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new Error(`cannot create model directory '${dir}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  writeFileSync(join(dir, META), `${JSON.stringify(predictor.data, null, 1)}\n`);
  const enc = predictor.encodingModel;
  if (enc) {
    const a = await saveArtifacts(enc);
    writeFileSync(join(dir, ENC_JSON), JSON.stringify({ modelTopology: a.modelTopology, weightSpecs: a.weightSpecs, format: a.format, generatedBy: a.generatedBy }));
    const data = a.weightData as ArrayBuffer;
    writeFileSync(join(dir, ENC_BIN), new Uint8Array(data));
  }
}

/** Loads a predictor directory written by savePredictor. */
export async function loadPredictor(dir: string): Promise<LatencyPredictor> {
  const metaPath = join(dir, META);
  if (!existsSync(metaPath)) throw new Error(`'${dir}' is not a predictor directory: ${META} is missing`);
  let data: PredictorData;
  try {
    data = JSON.parse(readFileSync(metaPath, 'utf8')) as PredictorData;
  } catch (e) {
    throw new Error(`cannot read '${metaPath}': ${(e as Error).message}`);
  }
  if (data.format !== 'hwlat-predictor/1') throw new Error(`'${metaPath}' has format '${String(data.format)}', expected 'hwlat-predictor/1'`);
  let encoding = null;
  if (data.encoding) {
    const j = JSON.parse(readFileSync(join(dir, ENC_JSON), 'utf8'));
    const bin = readFileSync(join(dir, ENC_BIN));
    encoding = await loadArtifacts({ ...j, weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength) });
  }
  return new LatencyPredictor(data, encoding);
}
