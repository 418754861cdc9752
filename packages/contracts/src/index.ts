export * from './column-types.ts';
export * from './contract.ts';
export * from './contracts.ts';
export * from './table-build.ts';
export * from './artifact-io.ts';
export * from './policy-record.ts';
