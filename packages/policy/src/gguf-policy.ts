import { importGguf, NON_WEIGHT_TENSORS, readGguf, type ImportGgufResult } from '@ragrpo/gguf';
import { createProgress } from '@ragrpo/progress';

/**
 * `policy: { gguf: FILE }`: the GGUF imported by @ragrpo/gguf into `out` (the stage's model/ folder:
 * config.json, F32 model.safetensors, tokenizer files with the chat template), with one progress
 * line per tensor batch.
 */
export async function importGgufPolicy(file: string, out: string, task = file): Promise<ImportGgufResult> {
  const header = await readGguf(file);
  const total = header.tensors.filter((t) => !NON_WEIGHT_TENSORS.has(t.name)).length;
  const bar = createProgress({ stage: 'policy', task: `import ${task}`, total, unit: 'tensors' });
  const r = await importGguf(file, out, { onProgress: () => bar.tick(1) });
  bar.done();
  return r;
}
