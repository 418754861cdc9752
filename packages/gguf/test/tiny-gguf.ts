/**
 * Test helper, run by path (other packages' tests spawn it instead of importing this package's tests):
 *   npx tsx packages/gguf/test/tiny-gguf.ts --out FILE [--arch llama|qwen2|smollm] [--quant f32|q8_0]
 * builds a scratch model (@ragrpo/model) and writes it as a GGUF the way llama.cpp would.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildScratchModel, type ScratchArch } from '@ragrpo/model';
import { folderToGguf } from './gguf-writer.ts';

const CORPUS = [
  'The capital of France is Paris. The capital of Germany is Berlin.',
  'A crisp white wine with citrus, green apple and a mineral finish.',
  'Der Riesling duftet nach Pfirsich und Aprikose.',
];

export async function writeTinyGguf(out: string, arch: ScratchArch = 'llama', quant: 'f32' | 'q8_0' = 'q8_0'): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ragrpo-tiny-gguf-'));
  try {
    await buildScratchModel({
      out: path.join(dir, 'model'), arch, layers: 2, hidden: 64, heads: 4, kvHeads: arch === 'smollm' ? 1 : 2, intermediate: 96,
      maxPositions: 256, seed: 7, initStd: 0.1, corpus: CORPUS, vocabSize: 300,
    });
    await folderToGguf(path.join(dir, 'model'), out, {
      typeOf: (n, shape) => (quant === 'q8_0' && shape.length === 2 && shape[1]! % 32 === 0 ? 8 : 0),
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const args = process.argv.slice(2);
const arg = (name: string) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const out = arg('--out');
  if (!out) { console.error('tiny-gguf: --out FILE is required'); process.exit(2); }
  await writeTinyGguf(out, (arg('--arch') ?? 'llama') as ScratchArch, (arg('--quant') ?? 'q8_0') as 'f32' | 'q8_0');
  console.log(out);
}
