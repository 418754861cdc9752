import type { Schema } from 'apache-arrow';
import type { ColumnKind } from './column-types.ts';

/**
 * A versioned table contract. `version` is bumped when a column changes meaning or type;
 * readers refuse a different major version instead of misreading old artifacts.
 */
export interface Contract<Cols extends Record<string, ColumnKind> = Record<string, ColumnKind>> {
  name: string;
  version: number;
  columns: Cols;
  description: string;
}

export const CONTRACT_KEY = 'ragrpo.contract';
export const VERSION_KEY = 'ragrpo.version';

export function defineContract<C extends Record<string, ColumnKind>>(c: Contract<C>): Contract<C> {
  return c;
}

/** Checks that an Arrow schema carries the contract's name, version and columns. */
export function checkSchema(schema: Schema, contract: Contract, where: string): void {
  const name = schema.metadata.get(CONTRACT_KEY);
  const version = schema.metadata.get(VERSION_KEY);
  if (name !== contract.name) {
    throw new Error(`${where}: holds a '${name ?? 'unlabelled'}' table, expected '${contract.name}'. Re-run the stage that writes it.`);
  }
  if (Number(version) !== contract.version) {
    throw new Error(`${where}: '${contract.name}' schema version ${version}, this build reads version ${contract.version}. Re-run the stage that writes it.`);
  }
  for (const col of Object.keys(contract.columns)) {
    if (!schema.fields.some((f) => f.name === col)) {
      throw new Error(`${where}: column '${col}' is missing from '${contract.name}' v${contract.version}.`);
    }
  }
}
