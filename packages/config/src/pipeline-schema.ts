import { z } from 'zod';
import { DocumentSource, IngestSection } from './sections/ingest.ts';
import { EmbedSection } from './sections/embed.ts';
import { IndexSection } from './sections/index.ts';
import { RankSection } from './sections/rank.ts';
import { PolicySection } from './sections/policy.ts';
import { PromptsSection } from './sections/prompts.ts';
import { GenerateSection } from './sections/generate.ts';
import { RewardSection } from './sections/reward.ts';
import { EvaluateSection } from './sections/evaluate.ts';
import { SftSection } from './sections/sft.ts';
import { GrpoSection } from './sections/grpo.ts';

// The pipeline file, one strict section per stage (sections/<stage>.ts). Strict objects turn a
// typo into an error that names the key instead of a silently ignored setting. Sections of the
// learning half are optional: a stage runs in a pipeline when its section is there.

export { DocumentSource, IngestSection, EmbedSection, IndexSection, RankSection, PolicySection, PromptsSection, GenerateSection, RewardSection, GrpoSection };
export { TRL_OPTIONS_NOT_HERE } from './sections/grpo.ts';
export { TemplateRef } from './sections/prompts.ts';
export { SftSection, SftPretrain, SftFinetune } from './sections/sft.ts';

export const PipelineSchema = z.strictObject({
  description: z.string().optional(),
  /** Every stage derives its randomness from this seed. */
  seed: z.number().int().min(0).default(0),
  ingest: IngestSection,
  embed: EmbedSection,
  index: IndexSection.default(IndexSection.parse({})),
  rank: RankSection.default(RankSection.parse({})),
  policy: PolicySection.optional(),
  prompts: PromptsSection.optional(),
  generate: GenerateSection.optional(),
  reward: RewardSection.optional(),
  sft: SftSection.optional(),
  grpo: GrpoSection.optional(),
  evaluate: EvaluateSection.optional(),
});

export type PipelineConfig = z.infer<typeof PipelineSchema>;
export type IngestConfig = z.infer<typeof IngestSection>;
export type EmbedConfig = z.infer<typeof EmbedSection>;
export type IndexConfig = z.infer<typeof IndexSection>;
export type RankConfig = z.infer<typeof RankSection>;
export type PolicyConfig = z.infer<typeof PolicySection>;
export type PromptsConfig = z.infer<typeof PromptsSection>;
export type GenerateConfig = z.infer<typeof GenerateSection>;
export type RewardConfig = z.infer<typeof RewardSection>;
export type EvaluateConfig = z.infer<typeof EvaluateSection>;
export { EvaluateSection };
export type SftConfig = z.infer<typeof SftSection>;
export type GrpoConfig = z.infer<typeof GrpoSection>;
export type TemplateRefConfig = z.infer<typeof import('./sections/prompts.ts').TemplateRef>;
export type DocumentSourceConfig = z.infer<typeof DocumentSource>;
