export * from './types.ts';
export { InProcessNotifier, type InProcessNotifierOptions } from './in-process.ts';
export { DEFAULT_CHANNEL, PgNotifier, PgNotifierError, redactUrl, type PgNotifierOptions } from './postgres.ts';
export { ChangePublisher, changesOf, type ChangePublisherOptions } from './publisher.ts';
export { announceResync, announcingStore } from './announce.ts';
export { DataVersions, type DataKind } from './versions.ts';
export { notifierFor, type NotifierForOptions } from './select.ts';
export { ReplicaAgents, type ReplicaAgentsOptions } from './replica-agents.ts';
