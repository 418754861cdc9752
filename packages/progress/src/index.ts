export * from './logger.ts';
export * from './progress.ts';
export * from './format.ts';
