// @ragrpo/sft: the warm-up before GRPO: next-token pretraining on the chunk text (a scratch policy)
// and supervised fine-tuning on the train split's reference answers (loss on the answer tokens).
export { finetuneExamples, packTexts, permutation, type PromptRow, type FinetuneExample, type FinetuneData, type FinetuneOptions, type PackedText } from './examples.ts';
export { planPhase, phaseBatches, runPhase, DEFAULT_EPOCHS, type PhaseSettings, type PhasePlan, type PhaseOptions, type PhaseResult, type LossRow } from './train-phase.ts';
export { meanNll } from './held-out.ts';
export { warmupRecord } from './record.ts';
export { sftStage, DEFAULT_PRETRAIN_LENGTH } from './stage.ts';
