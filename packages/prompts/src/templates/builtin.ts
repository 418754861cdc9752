// The built-in prompt templates. Placeholders: {question}; {documents}, the in-context chunks
// numbered as seed 003 numbers them ("Document 1:\n\n<text>", blank line between); {context},
// the same chunks without numbers.

export interface TemplateSpec {
  name: string;
  /** The user message (chat) or the whole prompt (plain). */
  text: string;
  /** 'always': the tokenizer's chat template renders it (an error without one); 'if-available': when the
   *  tokenizer has one, else the text is the prompt; 'never': the text is the prompt. */
  chat: 'always' | 'if-available' | 'never';
}

/** Seed 002's alpaca prompt (instruction = the question, input = the documents), a plain-text prompt. */
const ALPACA = `You are an excellent AI assistant. Below is an instruction that describes a task, paired with an input that provides further information. The instruction and input are question provided by your user. Write a response appropriately your user's question.

### Instruction:
{question}

### Input:
{documents}

### Response:
`;

/** A plain question over the documents, in the model's own chat template. */
const CHAT = `Answer the question using the documents.

{documents}

Question: {question}`;

/** Seed 003's first prompt (English): answer only from the context, else say it does not contain the answer. */
const CONTEXT_ONLY = `Answer the question based on the provided context.
If the context does not contain the answer, reply: "Sorry, the context you provided does not contain the information to answer the question."
Context:
{documents}

Question: {question}`;

/** Seed 003's second prompt: score each document's relevance first, drop the irrelevant ones, list the most relevant first. */
const SCORE_DOCUMENTS = `Answer the question based on the provided context.

Before answering, analyse each document in the context and decide whether it contains the answer to the question.
Score each document by its relevance to the question and ignore the documents whose score is very low (irrelevant).
List the most relevant documents first, then answer the question from those documents only.

If the context does not contain the answer, reply: "Sorry, the context you provided does not contain the information to answer the question."
Context:
{documents}

Question: {question}`;

export const BUILTIN_TEMPLATES: Record<string, TemplateSpec> = {
  alpaca: { name: 'alpaca', text: ALPACA, chat: 'never' },
  chat: { name: 'chat', text: CHAT, chat: 'always' },
  context_only: { name: 'context_only', text: CONTEXT_ONLY, chat: 'if-available' },
  score_documents: { name: 'score_documents', text: SCORE_DOCUMENTS, chat: 'if-available' },
};
