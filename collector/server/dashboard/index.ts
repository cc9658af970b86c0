export { addDashboardRoutes, type DashboardRoutesOptions } from './routes.ts';
export { EventHub, snapshotOf, type EventHubOptions } from './events.ts';
export { AccuracyCache, accuracyView, MIN_EVAL_NETWORKS } from './accuracy.ts';
export { predictorBundle, writePredictorBundle } from './bundle.ts';
export { deviceSummary, devicesView, DeviceQualityCache, lutTable, qualityView, spacesView } from './views.ts';
export { lutHeatmapSpec } from './specs.ts';
export { DASHBOARD_ASSETS, dashboardAsset, type Asset } from './assets.ts';
export type * from './types.ts';
