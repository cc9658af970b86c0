export { startCollector, AGENT_WS_PATH, MIN_TOKEN_CHARS, type Collector, type CollectorOptions } from './collector.ts';
export { AgentEndpoint, type AgentEndpointOptions } from './agents.ts';
export { planTasks } from './planner.ts';
export { tokenMatches, bearerToken } from './auth.ts';
export { PredictorCache, type PredictorCacheOptions, type PredictorSource, type ServedPredictor, type ServeTrainOptions } from './predictor-cache.ts';
export { kernelModelPredictionJson, predictionJson } from './prediction-json.ts';
export { addPredictRoutes, PredictRequestSchema, MAX_PREDICT_BATCH, type PredictRequest } from './predict-routes.ts';
export { addDashboardRoutes, predictorBundle, writePredictorBundle, type PredictorBundle } from './dashboard/index.ts';
