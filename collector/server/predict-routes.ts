import type { ServerResponse } from 'node:http';
import { z } from 'zod';
import { getLutFormat, MissingLutKeysError, type LutFormatName } from '../../lut/index.ts';
import { ArchParseError, getSpace, UnknownKeyError, type SearchSpace } from '../../ops-library/index.ts';
import { PREDICTOR_KINDS, type BreakdownRow, type PredictorKind } from '../../predictor/index.ts';
import { deviceLut } from '../training-data.ts';
import type { Store } from '../store/index.ts';
import { HttpError, parseBody, readJson, sendJson, unknownDevice, type Router } from './http.ts';
import type { PredictorCache, ServedPredictor } from './predictor-cache.ts';
import { predictionJson } from './prediction-json.ts';

/** The most architectures one `POST /api/predict` may carry. */
export const MAX_PREDICT_BATCH = 10_000;
/** 10,000 ProxylessNAS arch strings are ~2.5 MB: the predict body may be larger than other bodies. */
export const MAX_PREDICT_BODY_BYTES = 8 * 1024 * 1024;

export const PredictRequestSchema = z
  .object({
    device: z.string().min(1),
    space: z.string().min(1),
    arch: z.string().min(1).optional(),
    archs: z.array(z.string()).min(1).max(MAX_PREDICT_BATCH).optional(),
    kind: z.enum(PREDICTOR_KINDS as readonly [PredictorKind, ...PredictorKind[]]).optional(),
    /** the device's current calibration latency: predict for its speed now */
    calibration_ms: z.number().positive().optional(),
    /** per-unit breakdown of a single prediction (default true) */
    breakdown: z.boolean().optional(),
  })
  .strict()
  .refine((b) => (b.arch === undefined) !== (b.archs === undefined), {
    message: "give exactly one of 'arch' (one architecture string) or 'archs' (a list of them)",
    path: ['arch'],
  });
export type PredictRequest = z.infer<typeof PredictRequestSchema>;

const LUT_CONTENT_TYPES: Record<LutFormatName, string> = {
  proxyless: 'application/yaml; charset=utf-8',
  fbnet: 'application/json; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
};

/** A space named by a request field: an unknown name is a 400 naming the field. */
function spaceField(name: string, field: string): SearchSpace {
  try {
    return getSpace(name);
  } catch (e) {
    if (e instanceof UnknownKeyError) throw new HttpError(400, `${field}: ${e.message}`, field);
    throw e;
  }
}

/**
 * The breakdown rows as JSON, byte-identical to JSON.stringify but ~3x faster: the strings (unit
 * keys, positions, choices: a predictor's finite set) are escaped once and cached. The breakdown
 * is most of a single prediction's response and its stringification was the largest CPU cost of
 * serving one (40 of ~175 µs for NAS-Bench-201's ~110 rows).
 */
const escaped = new Map<string, string>();
function jsonString(s: string | null): string {
  if (s === null) return 'null';
  let e = escaped.get(s);
  if (e === undefined) {
    if (escaped.size >= 50_000) escaped.clear();
    e = JSON.stringify(s);
    escaped.set(s, e);
  }
  return e;
}
const ROW_FIELDS = 5; // position, choice, key, ms, source
export function breakdownJson(rows: readonly BreakdownRow[]): string {
  // rows with other fields than these five (a newer BreakdownRow) go the general way
  if (rows.length > 0 && Object.keys(rows[0] as BreakdownRow).length !== ROW_FIELDS) return JSON.stringify(rows);
  let out = '[';
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i] as BreakdownRow;
    const ms = Number.isFinite(r.ms) ? String(r.ms) : 'null';
    out += `${i > 0 ? ',' : ''}{"position":${jsonString(r.position)},"choice":${jsonString(r.choice)},"key":${jsonString(r.key)},"ms":${ms},"source":${jsonString(r.source)}}`;
  }
  return `${out}]`;
}

function sendJsonText(res: ServerResponse, status: number, text: string): void {
  // written as a string: Node encodes it straight into the socket write, while a Buffer of more
  // than 4 KB is a fresh off-heap allocation per response that adds to GC pressure
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function predictorInfo(served: ServedPredictor) {
  const d = served.predictor.data;
  return { source: served.source, created_at: d.createdAt, networks: d.training.networks, measurements: served.measurements };
}

/**
 * Prediction and LUT routes, open like the other reads:
 *
 * - `POST /api/predict` `{device, space, arch}` → one prediction with its band and breakdown;
 *   `{device, space, archs: [...]}` (at most 10,000) → `latency_ms: [...]`. Optional `kind` and
 *   `calibration_ms` (the device's calibration now, to predict for its current speed).
 * - `GET /api/devices/:id/lut?format=proxyless|fbnet|csv[&space=S]` → the device's LUT file.
 */
export function addPredictRoutes(router: Router, o: { store: Store; predictors: PredictorCache }): Router {
  const { store, predictors } = o;
  return router
    .on('POST', '/api/predict', async (req, res) => {
      const body = parseBody(PredictRequestSchema, await readJson(req, MAX_PREDICT_BODY_BYTES));
      const space = spaceField(body.space, 'space');
      const served = await predictors.resolve(body.device, space.name);
      const { predictor } = served;
      const kind = body.kind ?? predictor.data.chosen;
      if (kind === 'encoding-mlp' && !predictor.encodingModel) {
        throw new HttpError(
          400,
          `kind: the predictor of '${body.device}' for '${space.name}' has no 'encoding-mlp' model (predictors trained by the collector skip it; ` +
            `serve a \`hwlat train\` directory with '--model' to use it)`,
          'kind',
        );
      }
      const opts = { kind, calibrationMs: body.calibration_ms };
      if (body.arch !== undefined) {
        let p;
        try {
          p = predictor.predict(body.arch, opts);
        } catch (e) {
          if (e instanceof ArchParseError) throw new HttpError(400, `arch: ${e.message}`, 'arch');
          throw e;
        }
        const head = JSON.stringify({ device: body.device, space: space.name, ...predictionJson(p), predictor: predictorInfo(served) });
        sendJsonText(res, 200, body.breakdown === false ? head : `${head.slice(0, -1)},"breakdown":${breakdownJson(p.breakdown)}}`);
        return;
      }
      const archs = body.archs as string[];
      let ms: Float64Array;
      try {
        ms = predictor.predictBatch(archs, opts);
      } catch (e) {
        if (e instanceof ArchParseError) {
          const i = archs.indexOf(e.arch);
          const field = i >= 0 ? `archs.${i}` : 'archs';
          throw new HttpError(400, `${field}: ${e.message}`, field);
        }
        throw e;
      }
      sendJson(res, 200, {
        device: body.device,
        space: space.name,
        kind,
        calibration_ms: body.calibration_ms ?? predictor.data.calibrationMs,
        predictor: predictorInfo(served),
        latency_ms: Array.from(ms),
      });
    })
    .on('GET', '/api/devices/:id/lut', async (_q, res, params, url) => {
      const deviceId = params.id as string;
      const formatName = url.searchParams.get('format') ?? 'proxyless';
      let format;
      try {
        format = getLutFormat(formatName);
      } catch (e) {
        if (e instanceof UnknownKeyError) throw new HttpError(400, `format: ${e.message}`, 'format');
        throw e;
      }
      const spaceName = url.searchParams.get('space');
      const space = spaceName === null || spaceName === '' ? null : spaceField(spaceName, 'space');
      if (format.name === 'fbnet' && !space) {
        throw new HttpError(400, "space: the 'fbnet' LUT format needs '&space=NAME': its table has one row per searchable position of the space", 'space');
      }
      if (!(await store.getDevice(deviceId))) throw await unknownDevice(store, deviceId);
      const lut = await deviceLut(store, deviceId, space?.name);
      if (lut.entries.size === 0) {
        throw new HttpError(
          404,
          `device '${deviceId}' has no op-level measurements${space ? ` for the layers of space '${space.name}'` : ''}: ` +
            `measure them with \`hwlat profile --space ${space?.name ?? 'S'} --ops\``,
        );
      }
      let text: string;
      try {
        // an inexpressible space (UnsupportedSpaceError, a RangeError) is a 400 by the server's mapping
        text = format.format(lut, { space });
      } catch (e) {
        if (e instanceof MissingLutKeysError) throw new HttpError(409, e.message);
        throw e;
      }
      const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, '_');
      const filename = `lut-${safe(deviceId)}${space ? `-${safe(space.name)}` : ''}${format.extension}`;
      res.writeHead(200, {
        'content-type': LUT_CONTENT_TYPES[format.name],
        'content-disposition': `attachment; filename="${filename}"`,
        'content-length': Buffer.byteLength(text),
        'x-lut-entries': String(lut.entries.size),
        ...(lut.calibrationMs !== null ? { 'x-lut-calibration-ms': String(lut.calibrationMs) } : {}),
      });
      res.end(text);
    });
}
