export { startCollector, AGENT_WS_PATH, type Collector, type CollectorOptions } from './collector.ts';
export { AgentEndpoint, type AgentEndpointOptions } from './agents.ts';
export { planTasks } from './planner.ts';
export { tokenMatches, bearerToken } from './auth.ts';
