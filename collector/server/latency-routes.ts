import { z } from 'zod';
import { getSpace, UnknownKeyError } from '../../ops-library/index.ts';
import { LatencyModel, latencyJson, PREDICTOR_KINDS, type LatencyPredictor, type PredictorKind } from '../../predictor/index.ts';
import { HttpError, parseBody, readJson, sendJson, type Router } from './http.ts';
import type { PredictorCache } from './predictor-cache.ts';

export const ExpectedLatencyRequestSchema = z
  .object({
    device: z.string().min(1),
    space: z.string().min(1),
    /** architecture probabilities [layers][candidates]; rows sum to 1 */
    probs: z.array(z.array(z.number())).min(1),
    kind: z.enum(PREDICTOR_KINDS as readonly [PredictorKind, ...PredictorKind[]]).optional(),
    /** the device's current calibration latency: E[latency] at its speed now */
    calibration_ms: z.number().positive().optional(),
  })
  .strict();

/** One differentiable model per (predictor, kind, calibration); a rebuilt predictor gets new ones. */
const models = new WeakMap<LatencyPredictor, Map<string, LatencyModel>>();
function modelOf(predictor: LatencyPredictor, kind: PredictorKind, calibrationMs: number | undefined): LatencyModel {
  let byKey = models.get(predictor);
  if (!byKey) models.set(predictor, (byKey = new Map()));
  const key = `${kind}/${calibrationMs ?? ''}`;
  let m = byKey.get(key);
  if (!m) {
    if (byKey.size >= 32) {
      for (const old of byKey.values()) old.dispose();
      byKey.clear();
    }
    byKey.set(key, (m = LatencyModel.fromPredictor(predictor, { kind, calibrationMs })));
  }
  return m;
}

function knownSpace(name: string): void {
  try {
    getSpace(name);
  } catch (e) {
    if (e instanceof UnknownKeyError) throw new HttpError(400, `space: ${e.message}`, 'space');
    throw e;
  }
}

/** The served predictor's differentiable model of `kind` (default: its chosen one). */
async function servedModel(o: { predictors: PredictorCache }, device: string, space: string, kindAsked: PredictorKind | undefined, calibrationMs: number | undefined) {
  knownSpace(space);
  const served = await o.predictors.resolve(device, space);
  const kind = kindAsked ?? served.predictor.data.chosen;
  if (kind === 'encoding-mlp' && !served.predictor.encodingModel) {
    throw new HttpError(400, `kind: the predictor of '${device}' for '${space}' has no 'encoding-mlp' model`, 'kind');
  }
  return { kind, model: modelOf(served.predictor, kind, calibrationMs) };
}

/**
 * - `POST /api/latency/expected` `{device, space, probs}` → `{latency_ms, grad}`: E[latency] of a
 *   device's predictor under architecture probabilities and its gradient, for a search loop in any
 *   language. Bad probabilities are a 400 naming `probs` and the problem.
 * - `GET /api/latency/export?device=D&space=S[&kind=K][&calibration_ms=X]`: the same model as
 *   `hwlat export --format json` writes it (python/hwlat_torch.py's `fetch` reads it).
 */
export function addLatencyRoutes(router: Router, o: { predictors: PredictorCache }): Router {
  router.on('GET', '/api/latency/export', async (_req, res, _p, url) => {
    const device = url.searchParams.get('device');
    if (!device) throw new HttpError(400, "device: '?device=ID' is required", 'device');
    const space = url.searchParams.get('space');
    if (!space) throw new HttpError(400, "space: '?space=NAME' is required (e.g. ?space=fbnet)", 'space');
    const kindRaw = url.searchParams.get('kind');
    if (kindRaw !== null && !(PREDICTOR_KINDS as readonly string[]).includes(kindRaw)) {
      throw new HttpError(400, `kind: must be one of ${PREDICTOR_KINDS.join(', ')}, got '${kindRaw}'`, 'kind');
    }
    const calRaw = url.searchParams.get('calibration_ms');
    const calibrationMs = calRaw === null ? undefined : Number(calRaw);
    if (calibrationMs !== undefined && !(calibrationMs > 0 && Number.isFinite(calibrationMs))) {
      throw new HttpError(400, `calibration_ms: must be a number > 0, got '${calRaw}'`, 'calibration_ms');
    }
    const { model } = await servedModel(o, device, space, (kindRaw ?? undefined) as PredictorKind | undefined, calibrationMs);
    sendJson(res, 200, latencyJson(model.params));
  });
  return router.on('POST', '/api/latency/expected', async (req, res) => {
    const body = parseBody(ExpectedLatencyRequestSchema, await readJson(req, 4 * 1024 * 1024));
    const { kind, model } = await servedModel(o, body.device, body.space, body.kind, body.calibration_ms);
    let r: { latencyMs: number; grad: number[][] };
    try {
      r = model.valueAndGrad(body.probs);
    } catch (e) {
      if (e instanceof RangeError || e instanceof TypeError) throw new HttpError(400, `probs: ${e.message}`, 'probs');
      throw e;
    }
    sendJson(res, 200, {
      device: body.device,
      space: model.space,
      kind,
      layers: model.layers,
      candidates: model.candidates,
      latency_ms: r.latencyMs,
      grad: r.grad,
      calibration_ms: model.params.calibrationMs,
    });
  });
}
