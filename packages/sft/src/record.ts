import path from 'node:path';
import { digestPaths } from '@ragrpo/config';
import type { PolicyRecord } from '@ragrpo/contracts';

/**
 * The warm-up policy's record, in the policy stage's format: the start record with the folder moved.
 * Full weights: the sft stage's own `model/` (and its digest). LoRA: the start folder (a folder inside the
 * artifacts is recorded relative to this record, `../policy/model`, so the pair moves with the artifacts)
 * and the adapter in `adapter/`, with the digest of its files (stages reading the record hash only the record).
 */
export function warmupRecord(start: PolicyRecord, o: { startFolder: string; outDir: string } & ({ kind: 'full'; modelDir: string } | { kind: 'lora'; adapterDir: string })): PolicyRecord {
  const { adapter: _ignored, ...rest } = start;
  if (o.kind === 'full') {
    return { ...rest, location: { base: 'artifact', path: rel(o.outDir, o.modelDir) }, digest: digestPaths(['.'], o.modelDir) };
  }
  const location: PolicyRecord['location'] = start.location.base === 'artifact' ? { base: 'artifact', path: rel(o.outDir, o.startFolder) } : start.location;
  return { ...rest, location, adapter: { base: 'artifact', path: rel(o.outDir, o.adapterDir), digest: digestPaths(['.'], o.adapterDir) } };
}

function rel(from: string, to: string): string {
  return path.relative(from, to).split(path.sep).join('/');
}
