import { readFile, stat } from 'node:fs/promises';
import { isUtf8 } from 'node:buffer';

/**
 * Reads a text input as strict UTF-8 and fails early, naming the file, on what would otherwise
 * turn into silent garbage: an empty file, a binary file with a text extension (NUL bytes), or
 * text in another encoding (Latin-1, Windows-1252). A UTF-8 byte-order mark is dropped.
 */
export async function readUtf8File(file: string, what = 'file'): Promise<string> {
  let bytes: Buffer;
  try {
    if ((await stat(file)).isDirectory()) throw new Error(`${file}: is a folder, expected a ${what}`);
    bytes = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`${file}: not found (the ${what} path is resolved against the workspace root)`);
    if (code) throw new Error(`${file}: cannot read the ${what} (${code})`);
    throw err;
  }
  return decodeUtf8(bytes, file);
}

/** Decodes bytes as strict UTF-8; errors name the file, byte offset and line. */
export function decodeUtf8(bytes: Uint8Array, file: string): string {
  if (bytes.length === 0) throw new Error(`${file}: the file is empty`);
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    throw new Error(`${file}: the file is UTF-16 (byte-order mark ${bytes[0] === 0xff ? 'FF FE' : 'FE FF'}); save it as UTF-8, e.g. iconv -f UTF-16 -t UTF-8 in > out`);
  }
  const nul = bytes.indexOf(0);
  if (nul >= 0) {
    throw new Error(`${file}: looks like a binary file, not text (NUL byte at offset ${nul}, line ${lineAt(bytes, nul)}); check the path or export the data as UTF-8 text`);
  }
  if (!isUtf8(bytes)) {
    const at = firstInvalidUtf8(bytes);
    const b = bytes[at].toString(16).padStart(2, '0');
    throw new Error(`${file}: not valid UTF-8 (byte 0x${b} at offset ${at}, line ${lineAt(bytes, at)}); the file is probably Latin-1/Windows-1252: convert it, e.g. iconv -f WINDOWS-1252 -t UTF-8 in > out`);
  }
  let text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === '') throw new Error(`${file}: the file is empty (only whitespace)`);
  return text;
}

function lineAt(bytes: Uint8Array, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i++) if (bytes[i] === 0x0a) line++;
  return line;
}

/**
 * The offset of the first byte that breaks UTF-8. Node's isUtf8 only says yes/no and
 * TextDecoder only replaces, so the position a user needs to find the problem is found here.
 */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    let n = 0;
    let min = 0;
    if (b < 0x80) { i++; continue; }
    if (b >= 0xc2 && b <= 0xdf) { n = 1; min = 0x80; }
    else if (b >= 0xe0 && b <= 0xef) { n = 2; min = 0x800; }
    else if (b >= 0xf0 && b <= 0xf4) { n = 3; min = 0x10000; }
    else return i;
    let cp = b & (0x3f >> n);
    for (let k = 1; k <= n; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
  }
  return -1;
}
