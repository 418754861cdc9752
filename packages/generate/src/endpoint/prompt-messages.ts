/**
 * A chat endpoint takes messages, and prompts.arrow holds each prompt as the policy sees it: rendered through
 * the policy tokenizer's chat template. This recovers the system and user messages from that text by rendering
 * the template around two markers and matching the literal text around them; the recovered messages must
 * render back to the very same prompt, or the prompt goes as one user message as it is (templates without a
 * chat template, such as alpaca, are plain text already).
 */
import type { ChatMessage } from '@ragrpo/model';
import type { EndpointMessage } from './chat-endpoint.ts';

export interface TemplateTokenizer {
  hasChatTemplate: boolean;
  applyChatTemplate(messages: ChatMessage[], opts?: { addGenerationPrompt?: boolean }): string;
}

const SYSTEM = '\u0002ragrpo-system\u0003';
const USER = '\u0002ragrpo-user\u0003';

export function promptMessages(prompt: string, tok: TemplateTokenizer): EndpointMessage[] {
  if (!tok.hasChatTemplate) return [{ role: 'user', content: prompt }];
  const render = (m: ChatMessage[]) => tok.applyChatTemplate(m, { addGenerationPrompt: true });
  for (const withSystem of [true, false]) {
    let probe: string;
    try {
      probe = render(withSystem ? [{ role: 'system', content: SYSTEM }, { role: 'user', content: USER }] : [{ role: 'user', content: USER }]);
    } catch {
      continue;
    }
    const u = probe.indexOf(USER);
    const sIdx = withSystem ? probe.indexOf(SYSTEM) : -1;
    if (u < 0 || (withSystem && (sIdx < 0 || sIdx > u))) continue;
    const pre = probe.slice(0, withSystem ? sIdx : u);
    const mid = withSystem ? probe.slice(sIdx + SYSTEM.length, u) : '';
    const post = probe.slice(u + USER.length);
    if (!prompt.startsWith(pre) || !prompt.endsWith(post) || prompt.length < pre.length + post.length) continue;
    const body = prompt.slice(pre.length, prompt.length - post.length);
    let messages: EndpointMessage[];
    if (withSystem) {
      const i = body.indexOf(mid);
      if (i < 0) continue;
      messages = [{ role: 'system', content: body.slice(0, i) }, { role: 'user', content: body.slice(i + mid.length) }];
    } else messages = [{ role: 'user', content: body }];
    if (render(messages) === prompt) return messages;
  }
  return [{ role: 'user', content: prompt }];
}
