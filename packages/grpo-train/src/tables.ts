import { tableFromColumns, type Contract } from '@ragrpo/contracts';
import { columnFromValues } from '@ragrpo/contracts';
import type { Table, Vector } from 'apache-arrow';

/**
 * A contract table from plain rows plus float32 columns the contract leaves open (one per reward:
 * `rewards/<name>/mean`, `reward_<name>`), null where a row has no value.
 */
export function rowsTable(contract: Contract, rows: Record<string, unknown>[], extraFloat: string[], metadata: Record<string, string> = {}): Table {
  const columns: Record<string, Vector> = {};
  for (const [name, col] of Object.entries(contract.columns)) {
    columns[name] = columnFromValues(col, rows.map((r) => r[name] ?? (col.kind.endsWith('list') ? [] : null)));
  }
  for (const name of extraFloat) columns[name] = columnFromValues({ kind: 'float32', nullable: true }, rows.map((r) => r[name] ?? null));
  return tableFromColumns(contract, columns, metadata);
}
