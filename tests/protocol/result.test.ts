// The measurement ↔ result message pair both sides use (protocol/result.ts): what the agent sends
// is what the collector rebuilds, and what the message leaves out comes from the job.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  measurementOfResult, MeasurementSchema, resultOfMeasurement, ResultSchema, type JobTask, type Measurement,
} from '../../protocol/index.ts';
import { GOOD_STATS } from '../helpers/raw-agent.ts';

const ARCH = 'arch-of-a-network';
const network: Measurement = {
  id: 'result-0123456789',
  deviceId: 'dev-0123456789ab',
  passId: 'pass-0123456789',
  level: 'network',
  space: 'nasbench201',
  key: ARCH,
  spec: null,
  batch: 1,
  warmup: 3,
  stats: GOOD_STATS,
  cold: { ...GOOD_STATS, median: 1.5, p90: 1.6 },
  wallMs: 40,
  calibrationMs: 0.8,
  anchorMs: 2.5,
  quality: { verdict: 'remeasured', rounds: 7, discardedRounds: 2, evidence: ['calibration 1.6× its baseline in 2 rounds'] },
  createdAt: '2025-01-01T00:00:00.000Z',
};
const networkTask: JobTask = { level: 'network', space: 'nasbench201', key: ARCH };

test('a network measurement survives the round trip: its figures travel, the task and device come from the job', () => {
  const msg = resultOfMeasurement(network, { jobId: 'job-1', passId: network.passId });
  assert.equal(ResultSchema.safeParse(msg).success, true);
  // the message does not repeat what the job says
  for (const f of ['deviceId', 'level', 'space', 'key', 'spec']) assert.ok(!(f in msg), f);
  const back = measurementOfResult(msg, { task: networkTask, deviceId: network.deviceId });
  assert.deepEqual(back, { ...network, jobId: 'job-1' });
  assert.equal(MeasurementSchema.safeParse(back).success, true);
  // the job's task wins over anything the agent measured under another name
  assert.equal(measurementOfResult(msg, { task: { ...networkTask, key: 'other' }, deviceId: 'dev-x' }).key, 'other');
});

test('an op: its spec from the job, no anchor whatever the agent sends; a calibration of 0 travels as null', () => {
  const spec = { op: 'relu', input: [8, 8, 16] };
  const { anchorMs: _anchor, ...figures } = network;
  const op: Measurement = { ...figures, level: 'op', space: null, key: 'relu-input:8x8x16', spec, calibrationMs: 0 };
  const msg = resultOfMeasurement(op, { jobId: 'job-2', passId: op.passId });
  assert.equal(msg.calibrationMs, null);
  assert.ok(!('anchorMs' in msg));
  const back = measurementOfResult({ ...msg, anchorMs: 3 }, { task: { level: 'op', space: null, key: op.key, spec }, deviceId: op.deviceId });
  assert.deepEqual(back, { ...op, calibrationMs: null, jobId: 'job-2' });
});

test('an older agent: no cold statistics, no quality, no anchor → the measurement has none either', () => {
  const msg = resultOfMeasurement({ ...network, cold: null, quality: null, anchorMs: null }, { jobId: 'job-3', passId: network.passId });
  for (const f of ['cold', 'quality', 'anchorMs']) assert.ok(!(f in msg), f);
  const back = measurementOfResult(msg, { task: networkTask, deviceId: network.deviceId });
  for (const f of ['cold', 'quality', 'anchorMs']) assert.ok(!(f in back), f);
});
