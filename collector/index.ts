export * from './store/index.ts';
export * from './server/index.ts';
export * from './training-data.ts';
export * from './fewshot.ts';
export * from './kernel-models.ts';
export * from './events/index.ts';
