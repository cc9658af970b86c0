import type { IncomingMessage } from 'node:http';
import { getSpace, UnknownKeyError } from '../../ops-library/index.ts';
import { predictOnnx, predictOnnxModel, runtimeRuleSet } from '../../predictor/onnx/index.ts';
import type { KernelModelCache } from '../kernel-models.ts';
import type { Store } from '../store/index.ts';
import { HttpError, sendJson, unknownDevice, type Router } from './http.ts';
import type { PredictorCache } from './predictor-cache.ts';
import { kernelModelPredictionJson } from './prediction-json.ts';

/** The most bytes an uploaded ONNX model may have (weights included; `hwlat onnx strip` drops them). */
export const MAX_ONNX_BYTES = 64 * 1024 * 1024;

async function readBytes(req: IncomingMessage, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(req.headers['content-length']);
  if (declared > maxBytes) throw new HttpError(413, `request body exceeds ${maxBytes} bytes; strip the weights first ('hwlat onnx strip IN OUT': shapes are all a prediction needs)`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw new HttpError(413, `request body exceeds ${maxBytes} bytes; strip the weights first ('hwlat onnx strip IN OUT')`);
    chunks.push(chunk as Buffer);
  }
  if (size === 0) throw new HttpError(400, "request body is empty; send the ONNX model's bytes (content-type application/octet-stream)");
  return new Uint8Array(Buffer.concat(chunks));
}

/** '1x3x224x224' → [1, 3, 224, 224] */
function shapeParam(url: URL): number[] | undefined {
  const raw = url.searchParams.get('input_shape');
  if (raw === null) return undefined;
  const dims = raw.split(/[x,]/).map(Number);
  if (dims.some((d) => !Number.isInteger(d) || d < 1)) throw new HttpError(400, `input_shape: must look like 1x3x224x224, got '${raw}'`, 'input_shape');
  return dims;
}

function boolParam(url: URL, name: string): boolean {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === 'false' || raw === '0') return false;
  if (raw === '' || raw === 'true' || raw === '1') return true;
  throw new HttpError(400, `${name}: must be true or false, got '${raw}'`, name);
}

/**
 * `POST /api/predict/onnx?device=D` with an ONNX model's bytes as the body: any model, predicted
 * kernel by kernel (predictor/onnx predictOnnxModel: import, the device runtime's kernel rules, the
 * device's kernel model from its kernels timed in context, Σ + overhead). Optional `input_shape`
 * (a model with symbolic dimensions) and `strict` (a 422 instead of listing kernels of types the
 * device never timed). A device without kernels timed in context but with a predictor for
 * `space=S` gets the older LUT kernel sum of that space's predictor (`kind: 'kernel-sum'`).
 * The device is checked before the body is read.
 */
export function addOnnxRoutes(router: Router, o: { store: Store; predictors: PredictorCache; kernelModels: KernelModelCache }): void {
  router.on('POST', '/api/predict/onnx', async (req, res, _p, url) => {
    const deviceId = url.searchParams.get('device');
    if (!deviceId) throw new HttpError(400, "device: '?device=ID' is required", 'device');
    const device = await o.store.getDevice(deviceId);
    if (!device) throw await unknownDevice(o.store, deviceId);
    const inputShape = shapeParam(url);
    const strict = boolParam(url, 'strict');
    const spaceRaw = url.searchParams.get('space');
    const model = await o.kernelModels.get(deviceId);
    if (model) {
      let runtime: string;
      try {
        runtime = runtimeRuleSet(device.runtime);
      } catch (e) {
        throw new HttpError(409, `device: ${(e as Error).message}`, 'device');
      }
      const bytes = await readBytes(req, MAX_ONNX_BYTES);
      const p = predictOnnxModel(bytes, model, { runtime, strict, ...(inputShape ? { inputShape } : {}) });
      sendJson(res, 200, {
        device: deviceId, runtime, kind: 'kernel-model', ...kernelModelPredictionJson(p),
      });
      return;
    }
    if (spaceRaw === null) {
      throw new HttpError(
        404,
        `device: '${deviceId}' has no kernels timed in context (profile some: 'hwlat profile --kernels', or a campaign with kernel profiling); a device with a space's predictor can be asked with ?space=S for that space's kernel sum`,
        'device',
      );
    }
    let space: string;
    try {
      space = getSpace(spaceRaw).name;
    } catch (e) {
      if (e instanceof UnknownKeyError) throw new HttpError(400, `space: ${e.message}`, 'space');
      throw e;
    }
    const calRaw = url.searchParams.get('calibration_ms');
    const calibrationMs = calRaw === null ? undefined : Number(calRaw);
    if (calibrationMs !== undefined && !(calibrationMs > 0)) throw new HttpError(400, `calibration_ms: must be a number > 0, got '${calRaw}'`, 'calibration_ms');
    const served = await o.predictors.resolve(deviceId, space);
    const bytes = await readBytes(req, MAX_ONNX_BYTES);
    const p = predictOnnx(served.predictor, bytes, { calibrationMs });
    sendJson(res, 200, {
      device: deviceId, space, latency_ms: p.ms, kind: 'kernel-sum',
      calibration_ms: calibrationMs ?? served.predictor.data.calibrationMs,
      lut_hits: p.lutHits, regressor_kernels: p.regressorKernels, free_nodes: p.free,
      predictor: { source: served.source, networks: served.predictor.data.training.networks },
      kernels: p.kernels.map((k) => ({ nodes: k.nodes, op_types: k.opTypes, key: k.key, ms: k.ms, source: k.source, ...(k.note ? { note: k.note } : {}) })),
    });
  });
}
