import type { PolicyConfig, StageContext } from '@ragrpo/config';
import { streamSeed } from '@ragrpo/config';
import { workspaceLocation } from '@ragrpo/contracts';
import { createProgress } from '@ragrpo/progress';
import { importGgufPolicy } from './gguf-policy.ts';
import { resolveModelFolder } from './hub/resolve-model-folder.ts';
import { buildPolicyRecord } from './record/build-record.ts';
import { buildScratchPolicy, trainingTexts } from './scratch-policy.ts';

/** The policy stage: policy.json (where the start model is, its digest, how it is trained), and model/ for a scratch or GGUF model. */
export async function policyStage(ctx: StageContext<PolicyConfig>): Promise<string> {
  const s = ctx.settings;
  const warn = (m: string) => ctx.log.warn(m);
  if (s.gguf) {
    const started = performance.now();
    const r = await importGgufPolicy(ctx.resolve(s.gguf), ctx.outputPath('model'), s.gguf);
    const record = await buildPolicyRecord({
      source: 'gguf', model: s.gguf, folder: r.out, location: { base: 'artifact', path: 'model' }, settings: s, warn,
    });
    await ctx.writeOutput('policy', JSON.stringify(record, null, 2) + '\n');
    const types = Object.entries(r.tensorTypes).map(([t, n]) => `${n} ${t}`).join(', ');
    const secs = ((performance.now() - started) / 1000).toFixed(1);
    return `${record.architecture} imported from ${s.gguf} (${types}; ${(record.num_parameters / 1e6).toFixed(1)}M parameters, F32) in ${secs} s, trainable: ${record.trainable}`;
  }
  if (s.scratch) {
    const chunks = await ctx.readInput('chunks');
    const texts = trainingTexts((chunks.getChild('text')?.toArray() ?? []) as string[], s.scratch.max_training_chars);
    const started = performance.now();
    const built = await buildScratchPolicy(ctx.outputPath('model'), s.scratch, texts, streamSeed(ctx.seed, 'policy'));
    const record = await buildPolicyRecord({
      source: 'scratch', model: 'scratch', folder: built.out, location: { base: 'artifact', path: 'model' }, settings: s, warn,
    });
    await ctx.writeOutput('policy', JSON.stringify(record, null, 2) + '\n');
    if (built.tokenizerSize < s.scratch.vocab_size) warn(`the chunks gave only ${built.tokenizerSize} of ${s.scratch.vocab_size} tokens (no more repeated pairs to merge)`);
    const secs = ((performance.now() - started) / 1000).toFixed(1);
    return `scratch ${s.scratch.arch}: ${(built.numParameters / 1e6).toFixed(2)}M parameters, BPE vocabulary ${built.tokenizerSize} trained on ${texts.length} chunks in ${secs} s`;
  }
  // A download shows one progress line per file (bytes, rate, ETA); a local folder shows none.
  const bars = new Map<string, { bar: ReturnType<typeof createProgress>; at: number; finished: boolean }>();
  const resolved = await resolveModelFolder(s.model!, {
    modelsDir: ctx.resolve(s.models_dir), allowRemote: s.allow_remote, root: ctx.root, revision: s.revision,
    onProgress: (p) => {
      let b = bars.get(p.file);
      if (!b) { b = { bar: createProgress({ stage: 'policy', task: `download ${p.file}`, total: p.total, unit: 'bytes' }), at: 0, finished: false }; bars.set(p.file, b); }
      if (b.finished) return;
      b.bar.tick(p.bytes - b.at);
      b.at = p.bytes;
      if (p.bytes >= p.total) { b.finished = true; b.bar.done(); }
    },
  });
  const record = await buildPolicyRecord({
    source: resolved.source, model: s.model!, folder: resolved.folder, location: workspaceLocation(resolved.folder, ctx.root), settings: s, warn,
  });
  await ctx.writeOutput('policy', JSON.stringify(record, null, 2) + '\n');
  return `${record.architecture} from ${resolved.folder} (${resolved.source}, ${(record.num_parameters / 1e6).toFixed(1)}M parameters, digest ${record.digest.slice(0, 12)}), trainable: ${record.trainable}`;
}
