import { lookup } from '../../ops-library/index.ts';
import { tf } from '../tf.ts';

/** A loss's inputs: cross-entropy and expected latency (ms) as scalars, or plain numbers. */
type Scalarish = tf.Scalar | number;

export interface LatencyLossOptions {
  /** ProxylessNAS mul#log and FBNet: the scale α (default 0.2) */
  alpha?: number;
  /** ProxylessNAS mul#log: the exponent β (default 0.3); FBNet: β (default 0.6) */
  beta?: number;
  /** ProxylessNAS add#linear: the weight λ (default 0.1) */
  lambda?: number;
  /** the reference latency, ms (ProxylessNAS's `ref_value`) */
  ref?: number;
  /**
   * a latency to reach rather than to undercut: the latency entering the loss becomes
   * T·exp(|log(E/T)|) (= E above T, T²/E below it), so each loss is smallest at E = T. It also
   * serves as `ref` when none is given.
   */
  targetMs?: number;
}

export type LatencyLossName = 'proxyless-mul-log' | 'proxyless-add-linear' | 'fbnet';

const scalar = (x: Scalarish): tf.Scalar => (typeof x === 'number' ? tf.scalar(x) : x);
const value = (x: tf.Scalar): number => x.dataSync()[0] as number;

function positive(name: string, v: number | undefined): number | undefined {
  if (v !== undefined && !(Number.isFinite(v) && v > 0)) throw new RangeError(`'${name}' must be a number > 0, got ${v}`);
  return v;
}

/** The latency a loss sees: E itself, or its distance from a target in log space (see targetMs). */
export function towardTarget(lat: Scalarish, targetMs: number): tf.Scalar {
  positive('targetMs', targetMs);
  return tf.tidy(() => tf.mul(tf.exp(tf.abs(tf.log(tf.div(scalar(lat), targetMs)))), targetMs) as tf.Scalar);
}

function checkLatency(lat: tf.Scalar, loss: string): void {
  const v = value(lat);
  if (!(Number.isFinite(v) && v > 0)) throw new RangeError(`${loss}: the expected latency must be a number > 0 ms, got ${v}`);
}

/**
 * ProxylessNAS `mul#log`: α·CE·(log E[lat] / log ref)^β (defaults α 0.2, β 0.3).
 *
 * @example
 * const loss = proxylessMulLog(ce, model.expected(tf.softmax(alpha)), { ref: 5 });
 */
export function proxylessMulLog(ce: Scalarish, lat: Scalarish, o: LatencyLossOptions = {}): tf.Scalar {
  const ref = positive('ref', o.ref ?? o.targetMs);
  if (ref === undefined) throw new RangeError(`proxyless-mul-log: 'ref' (the reference latency, ms) is required`);
  if (ref === 1) throw new RangeError(`proxyless-mul-log: 'ref' must not be 1 ms (log ref = 0)`);
  return tf.tidy(() => {
    const e = o.targetMs !== undefined ? towardTarget(lat, o.targetMs) : scalar(lat);
    checkLatency(e, 'proxyless-mul-log');
    const ratio = tf.div(tf.log(e), Math.log(ref));
    if (!(value(ratio as tf.Scalar) > 0)) {
      throw new RangeError(`proxyless-mul-log: log E[lat] / log ref must be > 0 (both latencies on the same side of 1 ms), got E[lat] ${value(e)} ms and ref ${ref} ms`);
    }
    return tf.mul(tf.mul(scalar(ce), o.alpha ?? 0.2), tf.pow(ratio, o.beta ?? 0.3)) as tf.Scalar;
  });
}

/**
 * ProxylessNAS `add#linear`: CE + λ·(E[lat] − ref)/ref (default λ 0.1).
 *
 * @example
 * const loss = proxylessAddLinear(ce, model.expected(tf.softmax(alpha)), { ref: 5, lambda: 0.1 });
 */
export function proxylessAddLinear(ce: Scalarish, lat: Scalarish, o: LatencyLossOptions = {}): tf.Scalar {
  const ref = positive('ref', o.ref ?? o.targetMs);
  if (ref === undefined) throw new RangeError(`proxyless-add-linear: 'ref' (the reference latency, ms) is required`);
  return tf.tidy(() => {
    const e = o.targetMs !== undefined ? towardTarget(lat, o.targetMs) : scalar(lat);
    return tf.add(scalar(ce), tf.mul(tf.div(tf.sub(e, ref), ref), o.lambda ?? 0.1)) as tf.Scalar;
  });
}

/**
 * FBNet: CE·α·log(LAT)^β (defaults α 0.2, β 0.6); LAT in ms must be > 1 so that log LAT > 0.
 *
 * @example
 * const loss = fbnetLoss(ce, model.expected(gumbelSoftmax(alpha, tau)));
 */
export function fbnetLoss(ce: Scalarish, lat: Scalarish, o: LatencyLossOptions = {}): tf.Scalar {
  return tf.tidy(() => {
    const e = o.targetMs !== undefined ? towardTarget(lat, o.targetMs) : scalar(lat);
    checkLatency(e, 'fbnet');
    if (!(value(e) > 1)) throw new RangeError(`fbnet: LAT must be > 1 ms so that log(LAT) > 0, got ${value(e)} ms (express it in a smaller unit)`);
    return tf.mul(tf.mul(scalar(ce), o.alpha ?? 0.2), tf.pow(tf.log(e), o.beta ?? 0.6)) as tf.Scalar;
  });
}

export type LatencyLoss = (ce: Scalarish, lat: Scalarish, options?: LatencyLossOptions) => tf.Scalar;

/** The latency losses by name (`hwlat search --loss`). */
export const LATENCY_LOSSES: Readonly<Record<LatencyLossName, LatencyLoss>> = Object.freeze({
  'proxyless-mul-log': proxylessMulLog,
  'proxyless-add-linear': proxylessAddLinear,
  fbnet: fbnetLoss,
});

/** The loss called `name`; an unknown name throws UnknownKeyError listing the known ones. */
export function getLatencyLoss(name: string): LatencyLoss {
  return lookup(LATENCY_LOSSES as Record<string, LatencyLoss>, 'latency loss', name);
}
