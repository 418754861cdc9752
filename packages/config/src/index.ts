export * from './pipeline-schema.ts';
export * from './load-pipeline.ts';
export * from './stage-command.ts';
export * from './stages/stage-declaration.ts';
export { fetchCommandFor, missingModels, missingModelMessage, type MissingModel } from './stages/model-check.ts';
export { suggest } from './yaml-errors.ts';
export * from './seeded-random.ts';
