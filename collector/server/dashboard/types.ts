import type { DataVerdict } from '../../../conditions/index.ts';
import type { AccuracyMetrics, PredictorKind } from '../../../predictor/index.ts';
import type { CampaignProgress, CampaignRequest, DeviceProfile, MeasurementLevel } from '../../../protocol/index.ts';

/**
 * The JSON shapes of the dashboard's endpoints. The page (collector/dashboard/page) imports these
 * types too, so the server and the page cannot disagree on a field.
 */

/** What `GET /api/events` pushes (event `snapshot`) whenever it changes, and once on connect. */
export interface DashboardSnapshot {
  /** increases by one per change the server saw */
  seq: number;
  /** ISO timestamp of the poll that produced it */
  at: string;
  /** agents connected over ws right now */
  agents: number;
  devices: Array<{ id: string; name: string; measurements: number }>;
  campaigns: CampaignView[];
}

export interface CampaignView {
  id: string;
  name: string | null;
  space: string;
  createdAt: string;
  request: CampaignRequest;
  progress: CampaignProgress[];
  /** summed over devices */
  total: number;
  done: number;
  failed: number;
  leased: number;
}

/** A device's measurement counts for one level and space (space null: outside any space, e.g. calibration). */
export interface MeasurementCount {
  level: MeasurementLevel;
  space: string | null;
  count: number;
}

/** How many of a space's LUT keys (ops-library spaceUnits) the device has measured. */
export interface LutCoverage {
  space: string;
  measured: number;
  total: number;
  /** network-level measurements of the space */
  networks: number;
}

/**
 * How far a device's measurements can be trusted (conditions/quality.ts summariseQuality over all
 * of them), in the API's snake_case. Disturbed measurements are stored but never used by LUTs or
 * predictors.
 */
export interface DeviceQualityView {
  /** 'unreliable' data should not be trusted for a score; 'noisy' is shown as a warning too */
  verdict: DataVerdict;
  /** one line, e.g. "noisy: 31% of groups re-measured, cv 0.18" */
  text: string;
  /** measuring groups (a pass's measurements sharing one calibration figure) */
  groups: number;
  /** groups with a measurement re-measured after disturbed rounds */
  remeasured_groups: number;
  /** groups with a measurement stored disturbed */
  disturbed_groups: number;
  /** measurements stored disturbed (left out of LUTs and predictors) */
  disturbed_measurements: number;
  /** median coefficient of variation of the usable measurements; null without any */
  median_cv: number | null;
}

/** A device as `GET /api/devices` lists it: its profile, measurement count and data quality. */
export type DeviceView = DeviceProfile & { measurements: number; quality: DeviceQualityView };

/** `GET /api/dashboard/devices/:id`. */
export interface DeviceSummaryView {
  device: DeviceProfile & { measurements: number };
  /** the quality of all the device's measurements */
  quality: DeviceQualityView;
  counts: MeasurementCount[];
  coverage: LutCoverage[];
  /** the space with the most network measurements (else the best covered), null with no data */
  defaultSpace: string | null;
}

/** One cell of the LUT table: a candidate at a position, the sum of its units' LUT medians. */
export interface LutCell {
  position: string;
  choice: string;
  /** Σ LUT medians of the candidate's units (ms, at the LUT's calibration); null when a unit is unmeasured */
  ms: number | null;
  units: number;
  measuredUnits: number;
}

/** `GET /api/dashboard/devices/:id/lut-table?space=S`. */
export interface LutTableView {
  device: string;
  space: string;
  calibrationMs: number | null;
  /** LUT entries of the space's keys */
  entries: number;
  positions: string[];
  /** candidates in LUT order, per position (the heatmap's rows) */
  cells: LutCell[];
  fixed: { ms: number | null; units: number; measuredUnits: number };
  /** Vega-Lite heatmap: positions × candidates */
  spec: Record<string, unknown>;
}

/** One held-out split of `GET /api/dashboard/devices/:id/accuracy?space=S`. */
export interface AccuracySplitView {
  split: 'same-pass' | 'cross-pass';
  trainNetworks: number;
  testNetworks: number;
  metrics: Partial<Record<PredictorKind, AccuracyMetrics>>;
  /** Vega-Lite specs from predictor/report.ts: predicted vs measured with the ±10% band, and error histogram */
  scatter: Record<string, unknown>;
  histogram: Record<string, unknown>;
}

export interface AccuracyView {
  device: string;
  space: string;
  /** the device's measurement count the evaluation was made at (it is cached until that changes) */
  measurements: number;
  networks: number;
  splits: AccuracySplitView[];
}

/** `GET /api/dashboard/spaces`: what the prediction form offers. */
export interface SpaceView {
  name: string;
  summary: string;
  positions: number;
  keys: number;
  /** a few sampled architecture strings, to fill the form */
  examples: string[];
}

/** A file of a predictor directory inside a bundle. */
export interface BundleFile {
  encoding: 'utf8' | 'base64';
  data: string;
}

/**
 * `GET /api/devices/:id/model?space=S`: a trained predictor directory (predictor/model-dir.ts) as
 * one JSON document. writePredictorBundle turns it back into a directory for `hwlat serve --model`
 * or `loadPredictor`.
 */
export interface PredictorBundle {
  format: 'hwlat-predictor-bundle/1';
  device: string;
  space: string;
  createdAt: string;
  /** 'preloaded' (`hwlat serve --model`) or 'store' (trained from the database) */
  source?: string;
  /** file name → content, as savePredictor wrote them */
  files: Record<string, BundleFile>;
}
