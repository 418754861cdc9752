// @ragrpo/generate: candidate groups per question (seed 000). Its library is what grpo-train and
// evaluate sample with: load a policy record, sample groups of completions, split <think> blocks.
export { splitReasoning, type SplitCompletion } from './sampling/reasoning.ts';
export { sampleCompletions, type SamplingSettings, type SampledCompletion } from './sampling/sample-completions.ts';
export { loadPolicy, type LoadedPolicy } from './sampling/load-policy.ts';
export { planGroup, type GroupVariant } from './groups/plan-group.ts';
export { generateGroups, type PromptRow, type GenerateStats } from './groups/generate-groups.ts';
export { createChatEndpoint, type ChatEndpoint, type EndpointSettings, type EndpointMessage, type EndpointRequest, type EndpointReply } from './endpoint/chat-endpoint.ts';
export { promptMessages } from './endpoint/prompt-messages.ts';
export { endpointGroups, type EndpointStats } from './endpoint/endpoint-groups.ts';
export { generateStage } from './stage.ts';
