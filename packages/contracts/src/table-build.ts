import { Schema, Table, type Vector } from 'apache-arrow';
import { CONTRACT_KEY, VERSION_KEY, type Contract } from './contract.ts';
import { columnFromValues } from './column-types.ts';

type RowOf<C extends Contract> = { [K in keyof C['columns']]: unknown };

/** Builds a contract table from plain row objects (the common case for small tables). */
export function tableFromRows<C extends Contract>(
  contract: C, rows: RowOf<C>[], metadata: Record<string, string> = {},
): Table {
  const columns: Record<string, Vector> = {};
  for (const [name, col] of Object.entries(contract.columns)) {
    const values = rows.map((r, i) => {
      const v = (r as Record<string, unknown>)[name];
      if ((v === undefined || v === null) && !('nullable' in col && col.nullable) && !col.kind.endsWith('list')) {
        throw new Error(`${contract.name} row ${i}: column '${name}' is empty`);
      }
      return v ?? (col.kind.endsWith('list') ? [] : null);
    });
    columns[name] = columnFromValues(col, values);
  }
  return tableFromColumns(contract, columns, metadata);
}

/** Builds a contract table from ready Arrow vectors (for large numeric columns). */
export function tableFromColumns<C extends Contract>(
  contract: C, columns: Record<string, Vector>, metadata: Record<string, string> = {},
): Table {
  for (const name of Object.keys(contract.columns)) {
    if (!(name in columns)) throw new Error(`${contract.name}: column '${name}' not provided`);
  }
  const table = new Table(columns);
  return labelTable(table, contract, metadata);
}

export function labelTable(table: Table, contract: Contract, metadata: Record<string, string> = {}): Table {
  const meta = new Map(table.schema.metadata);
  for (const [k, v] of Object.entries(metadata)) meta.set(k, v);
  meta.set(CONTRACT_KEY, contract.name);
  meta.set(VERSION_KEY, String(contract.version));
  return new Table(new Schema(table.schema.fields, meta), table.batches);
}

/** Plain JS rows (strings, numbers, arrays) for small tables; vectors become typed arrays. */
export function tableRows<T = Record<string, unknown>>(table: Table): T[] {
  const names = table.schema.fields.map((f) => f.name);
  const cols = names.map((n) => table.getChild(n)!);
  const out: T[] = [];
  for (let i = 0; i < table.numRows; i++) {
    const row: Record<string, unknown> = {};
    names.forEach((n, j) => {
      const v = cols[j].get(i);
      // Lists come back as Arrow vectors: hand out their typed array / string array instead.
      row[n] = v !== null && typeof v === 'object' && 'toArray' in v ? (v as { toArray(): unknown }).toArray() : v;
    });
    out.push(row as T);
  }
  return out;
}

/** The whole fixed-size-list column as one flat Float32Array (zero-copy when the table has one batch). */
export function vectorColumn(table: Table, name = 'vector'): { flat: Float32Array; dim: number; rows: number } {
  const col = table.getChild(name);
  if (!col) throw new Error(`table has no column '${name}'`);
  const type = col.type as { listSize?: number };
  const dim = type.listSize;
  if (!dim) throw new Error(`column '${name}' is not a fixed-size vector column`);
  const parts = col.data.map((d) => {
    const child = d.children[0];
    const values = child.values as Float32Array;
    return values.subarray(child.offset + d.offset * dim, child.offset + (d.offset + d.length) * dim);
  });
  if (parts.length === 1) return { flat: parts[0], dim, rows: table.numRows };
  const flat = new Float32Array(table.numRows * dim);
  let at = 0;
  for (const p of parts) { flat.set(p, at); at += p.length; }
  return { flat, dim, rows: table.numRows };
}
