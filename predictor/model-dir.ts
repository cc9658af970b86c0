import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LatencyPredictor } from './predictor.ts';
import { loadArtifacts, saveArtifacts } from './regressors.ts';
import type { PredictorData } from './types.ts';

const META = 'predictor.json';

/**
 * Writes a predictor as a directory: predictor.json (device, space, calibration, LUT, kernel
 * regressors, the linear correction, metrics, training summary) and the encoding MLP in tfjs's
 * layers format (encoding.json + encoding.weights.bin, residual.json + residual.weights.bin). It loads without the database.
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
  for (const [name, model] of [['encoding', predictor.encodingModel], ['residual', predictor.residualModel]] as const) {
    if (!model) continue;
    const a = await saveArtifacts(model);
    writeFileSync(join(dir, `${name}.json`), JSON.stringify({ modelTopology: a.modelTopology, weightSpecs: a.weightSpecs, format: a.format, generatedBy: a.generatedBy }));
    writeFileSync(join(dir, `${name}.weights.bin`), new Uint8Array(a.weightData as ArrayBuffer));
  }
}

async function loadModel(dir: string, name: string) {
  const j = JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8'));
  const bin = readFileSync(join(dir, `${name}.weights.bin`));
  return loadArtifacts({ ...j, weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength) });
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
  const encoding = data.encoding ? await loadModel(dir, 'encoding') : null;
  const residual = data.residual ? await loadModel(dir, 'residual') : null;
  return new LatencyPredictor(data, encoding, residual);
}
