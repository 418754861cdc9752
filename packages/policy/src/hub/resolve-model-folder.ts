/**
 * Where `policy.model` points: a local folder, a folder under modelsDir named like the hub id, or (only with
 * allow_remote) a hub download into that folder. Offline runs never touch the network.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fetchCommandFor } from '@ragrpo/config';
import { downloadModel, type DownloadModelOptions } from './download-model.ts';

/** Download options (revision, endpoint, token, onProgress, retries, fetch) apply only when it downloads. */
export interface ResolveModelFolderOptions extends Omit<DownloadModelOptions, 'modelsDir'> {
  /** Where hub models live (`<modelsDir>/<org>/<name>`); relative to `root`. */
  modelsDir: string;
  /** policy.allow_remote: download from the hub when no local folder exists. */
  allowRemote: boolean;
  /** Folder relative paths (ref, modelsDir) resolve against: the workspace root. */
  root: string;
}

export interface ResolvedModelFolder {
  /** Absolute path of the model folder. */
  folder: string;
  /** 'folder': `ref` named a local folder; 'hub': a hub id, found in or downloaded to modelsDir. */
  source: 'folder' | 'hub';
  /** true when this call downloaded it. */
  downloaded: boolean;
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Resolves `ref` to an absolute model folder: `ref` itself when it is an existing folder (relative to `root`),
 * else `<modelsDir>/<ref>` when that exists, else with `allowRemote` the hub download of `ref` into it; otherwise
 * throws one line saying what to do.
 */
export async function resolveModelFolder(ref: string, opts: ResolveModelFolderOptions): Promise<ResolvedModelFolder> {
  if (ref.trim() === '') throw new Error('policy.model is empty: give a local model folder or a hub id such as org/name');
  const direct = path.resolve(opts.root, ref);
  if (isDir(direct)) return { folder: direct, source: 'folder', downloaded: false };
  const { modelsDir: dir, allowRemote, root: _root, ...download } = opts;
  const modelsDir = path.resolve(opts.root, dir);
  const underModels = path.join(modelsDir, ref);
  if (isDir(underModels)) return { folder: underModels, source: 'hub', downloaded: false };
  if (allowRemote) return { folder: await downloadModel(ref, { ...download, modelsDir }), source: 'hub', downloaded: true };
  throw new Error(
    `policy.model: '${ref}' is not a local folder and ${path.join(opts.modelsDir, ref)} does not exist; offline runs never download: ` +
      `${fetchCommandFor(ref) ? `build it with '${fetchCommandFor(ref)}'` : 'put the model folder there'}, point policy.model at a local folder, or set policy.allow_remote: true`,
  );
}
