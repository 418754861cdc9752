import type { GenerateConfig } from '@ragrpo/config';

/** One kind of member of a question's group (seed 000), sampled `count` times. */
export interface GroupVariant {
  /** 'greedy' | 'temperature=0.7' | 'template=context_only' | 'sample' */
  variant: string;
  template: string;
  temperature: number;
  count: number;
}

/**
 * A question's group, in order: the greedy reference, each extra temperature, each alternative
 * template (at `temperature`), then `num_generations` plain samples at `temperature`.
 */
export function planGroup(s: GenerateConfig, mainTemplate: string, knownTemplates: readonly string[]): GroupVariant[] {
  for (const t of s.template_variants) {
    if (!knownTemplates.includes(t)) {
      throw new Error(`generate.template_variants: '${t}' is not a template of the prompts stage (it has ${knownTemplates.join(', ')}); add it to prompts.alternatives`);
    }
  }
  const plan: GroupVariant[] = [];
  if (s.greedy_reference) plan.push({ variant: 'greedy', template: mainTemplate, temperature: 0, count: 1 });
  for (const t of s.temperatures) plan.push({ variant: `temperature=${t}`, template: mainTemplate, temperature: t, count: s.samples_per_temperature });
  for (const t of s.template_variants) plan.push({ variant: `template=${t}`, template: t, temperature: s.temperature, count: s.samples_per_template });
  plan.push({ variant: 'sample', template: mainTemplate, temperature: s.temperature, count: s.num_generations });
  return plan;
}

interface PlannedPrompt { question_id: string; split: string; template: string; is_main: boolean }

/**
 * What a generate run samples, whoever samples it (the policy or an endpoint): the main-template prompts of
 * `generate.splits` (the first `limit`), each question's group plan, and the prompt of any (question, template).
 */
export function planRun<P extends PlannedPrompt>(prompts: readonly P[], s: GenerateConfig): { questions: P[]; plan: GroupVariant[]; promptFor: (questionId: string, template: string) => P } {
  const main = prompts.filter((p) => p.is_main && s.splits.includes(p.split as 'train' | 'test'));
  const questions = s.limit > 0 ? main.slice(0, s.limit) : main;
  if (questions.length === 0) throw new Error(`generate: no prompts for the splits ${s.splits.join(', ')}; check ingest.questions.test_fraction and generate.splits`);
  const byTemplate = new Map<string, P>(prompts.map((p) => [`${p.question_id}\u0000${p.template}`, p]));
  const plan = planGroup(s, questions[0].template, [...new Set(prompts.map((p) => p.template))]);
  return { questions, plan, promptFor: (q, t) => byTemplate.get(`${q}\u0000${t}`)! };
}
