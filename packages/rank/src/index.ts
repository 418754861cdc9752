export * from './vector-set.ts';
export * from './cosine.ts';
export * from './pov-score.ts';
export * from './rank-retrieved.ts';
export * from './fonts.ts';
export * from './heatmap.ts';
export * from './html-report.ts';
export * from './file-names.ts';
