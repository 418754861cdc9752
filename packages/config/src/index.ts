export * from './pipeline-schema.ts';
export * from './load-pipeline.ts';
export * from './stage-command.ts';
export { suggest } from './yaml-errors.ts';
export * from './seeded-random.ts';
