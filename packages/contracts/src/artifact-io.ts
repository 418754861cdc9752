import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { tableFromIPC, tableToIPC, type Table } from 'apache-arrow';
import { checkSchema, type Contract } from './contract.ts';

/** Writes a file under a temporary name in the same folder and renames it: readers never see half a file. */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

export async function writeTable(file: string, contract: Contract, table: Table): Promise<void> {
  checkSchema(table.schema, contract, file);
  await writeFileAtomic(file, tableToIPC(table, 'file'));
}

export async function readTable(file: string, contract: Contract): Promise<Table> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(`${file}: not found. Run the stage that writes '${contract.name}' first (nx runs it for you as a dependency).`);
    }
    throw err;
  }
  let table: Table;
  try {
    table = tableFromIPC(bytes);
  } catch (err) {
    throw new Error(`${file}: not a readable Arrow IPC file (${(err as Error).message}). Delete it and re-run its stage.`);
  }
  checkSchema(table.schema, contract, file);
  return table;
}

export async function exists(p: string): Promise<boolean> {
  try { await stat(p); return true; } catch { return false; }
}

/**
 * Runs a stage's work against a fresh temporary folder and swaps it in only when the work
 * succeeds, so a crash or a bad input never leaves a half-written stage output behind and
 * never destroys the previous good one until the new one is complete.
 */
export async function withStageOutput<T>(dir: string, work: (tmpDir: string) => Promise<T>): Promise<T> {
  const parent = path.dirname(dir);
  await mkdir(parent, { recursive: true });
  await removeAbandonedTemps(parent, path.basename(dir));
  const tmp = path.join(parent, `.${path.basename(dir)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(tmp, { recursive: true });
  try {
    const result = await work(tmp);
    swapInFolder(tmp, dir);
    return result;
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Puts the complete folder `tmp` at `dir`, replacing what was there: the old folder is moved aside
 * first and put back if the rename fails, so `dir` is always either the old or the new folder.
 */
export function swapInFolder(tmp: string, dir: string): void {
  if (!existsSync(dir)) {
    renameSync(tmp, dir);
    return;
  }
  const old = `${tmp}-old`;
  renameSync(dir, old);
  try {
    renameSync(tmp, dir);
  } catch (e) {
    renameSync(old, dir);
    throw e;
  }
  rmSync(old, { recursive: true, force: true });
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A killed process stays a zombie until its parent reaps it: it answers signal 0 but is gone (Linux: state Z).
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

/**
 * Removes `.<stage>.tmp-<pid>-*` folders left by a run that was killed (SIGKILL skips every
 * cleanup): their process is gone. A live process's folder is left alone.
 */
export async function removeAbandonedTemps(parent: string, base: string): Promise<string[]> {
  const prefix = `.${base}.tmp-`;
  const removed: string[] = [];
  for (const name of await readdir(parent).catch(() => [] as string[])) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length).split('-')[0]);
    if (Number.isInteger(pid) && pid !== process.pid && processAlive(pid)) continue;
    await rm(path.join(parent, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}
