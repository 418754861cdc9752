import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '@ragrpo/contracts';
import { latestCheckpoint, type Trainer } from '@ragrpo/model';
import type { PromptSamplerState } from './prompt-sampler.ts';
import type { GenerationStats, Rollout } from './rollouts.ts';

/** Rollouts sampled but not all trained on yet: a checkpoint keeps them (TRL regenerates them on resume). */
export interface PendingGeneration {
  index: number;
  step: number;
  batches: Rollout[][];
  iteration: number;
  next: number;
  stats: GenerationStats;
}

/** Everything besides the trainer's tensors that an exact resume needs. */
export interface LoopState {
  step: number;
  sampler: PromptSamplerState;
  generations: number;
  numTokens: number;
  pending: PendingGeneration | null;
  metrics: Record<string, number | null>[];
  log: Record<string, unknown>[];
}

const FINGERPRINT = 'fingerprint.json';
const loopFile = (dir: string, step: number) => path.join(dir, `loop-state-${step}.json`);

/**
 * The resume folder of an interrupted run (outside the stage's temporary output folder, which a
 * killed run loses): checkpoint-<step>/ from the trainer and loop-state-<step>.json beside it,
 * plus the fingerprint of the settings that produced them. A checkpoint of other settings is
 * refused, never half-loaded.
 */
export class RunState {
  constructor(readonly dir: string, readonly fingerprint: Record<string, unknown>) {}

  /** The last complete checkpoint of this run, or null to start fresh (a different run's folder is an error). */
  latest(): { checkpoint: string; state: LoopState } | null {
    const fp = path.join(this.dir, FINGERPRINT);
    if (!existsSync(fp)) return null;
    const old = JSON.parse(readFileSync(fp, 'utf8')) as Record<string, unknown>;
    const changed = Object.keys({ ...old, ...this.fingerprint }).filter((k) => JSON.stringify(old[k]) !== JSON.stringify(this.fingerprint[k]));
    if (changed.length) {
      throw new Error(`${this.dir}: holds a checkpoint of an interrupted run with other settings (${changed.join(', ')} differ); delete the folder to start over, restore those settings to resume, or set grpo.resume_from_checkpoint: false`);
    }
    // The newest checkpoint whose loop state was written too (the loop state goes first, then the trainer's folder).
    for (;;) {
      const ckpt = latestCheckpoint(this.dir);
      if (!ckpt) return null;
      const step = Number(path.basename(ckpt).slice('checkpoint-'.length));
      if (existsSync(loopFile(this.dir, step))) return { checkpoint: ckpt, state: JSON.parse(readFileSync(loopFile(this.dir, step), 'utf8')) as LoopState };
      rmSync(ckpt, { recursive: true, force: true });
    }
  }

  async start(): Promise<void> {
    rmSync(this.dir, { recursive: true, force: true });
    mkdirSync(this.dir, { recursive: true });
    await writeFileAtomic(path.join(this.dir, FINGERPRINT), JSON.stringify(this.fingerprint, null, 2) + '\n');
  }

  async save(trainer: Trainer, state: LoopState): Promise<string> {
    await writeFileAtomic(loopFile(this.dir, state.step), JSON.stringify(state));
    const ckpt = await trainer.save(this.dir);
    // The trainer keeps its last save_total_limit checkpoints; drop the loop states of the ones it removed.
    const kept = new Set(readdirSync(this.dir).filter((d) => d.startsWith('checkpoint-')).map((d) => d.slice('checkpoint-'.length)));
    for (const f of readdirSync(this.dir)) {
      const m = /^loop-state-(\d+)\.json$/.exec(f);
      if (m && !kept.has(m[1])) rmSync(path.join(this.dir, f), { force: true });
    }
    return ckpt;
  }

  /** A run that finished needs no resume folder. */
  clear(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
