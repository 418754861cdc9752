import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';

/** Every file below `root` (or `root` itself) whose name ends in one of `extensions`, sorted for a stable order. */
export async function listFiles(root: string, extensions: string[], what: string): Promise<string[]> {
  let st;
  try {
    st = await stat(root);
  } catch {
    throw new Error(`${root}: not found (the ${what} path is resolved against the workspace root)`);
  }
  if (st.isFile()) return [root];
  const exts = extensions.map((e) => (e.startsWith('.') ? e : `.${e}`).toLowerCase());
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const p = path.join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() && exts.some((x) => e.name.toLowerCase().endsWith(x))) out.push(p);
    }
  };
  await walk(root);
  out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (out.length === 0) throw new Error(`${root}: the folder holds no ${exts.join('/')} files`);
  return out;
}
