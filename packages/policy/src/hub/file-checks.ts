// Checksums of downloaded files against what the hub's tree listing reports: sha256 of the content for LFS files
// (the LFS oid), the git blob id (sha1 of "blob <size>\0" + content) for files stored in git itself.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';

/** sha256 (hex) of a file, streamed. */
export async function sha256File(file: string): Promise<string> {
  return hashFile(file, createHash('sha256'));
}

/** git's blob id (hex sha1 over `blob <size>\0` + content), streamed. */
export async function gitBlobSha1File(file: string): Promise<string> {
  const h = createHash('sha1');
  h.update(`blob ${fs.statSync(file).size}\0`);
  return hashFile(file, h);
}

async function hashFile(file: string, h: ReturnType<typeof createHash>): Promise<string> {
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** What a tree listing entry says about a file's content. */
export interface ExpectedFile {
  path: string;
  size: number;
  /** sha256 of the content (LFS files). */
  sha256?: string;
  /** git blob sha1 (files stored in git, not LFS). */
  gitOid?: string;
}

/** null when the file matches, else a one-line reason. */
export async function checkFile(file: string, want: ExpectedFile): Promise<string | null> {
  const size = fs.statSync(file).size;
  if (size !== want.size) return `size ${size} bytes, the hub lists ${want.size}`;
  if (want.sha256) {
    const got = await sha256File(file);
    if (got !== want.sha256) return `sha256 ${got}, the hub's LFS oid is ${want.sha256}`;
  } else if (want.gitOid) {
    const got = await gitBlobSha1File(file);
    if (got !== want.gitOid) return `git blob id ${got}, the hub lists ${want.gitOid}`;
  }
  return null;
}
