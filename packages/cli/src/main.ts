/**
 * `ragrpo <command>`:
 *   ragrpo import-gguf PATH --out DIR
 *   ragrpo generate --model DIR --prompt TEXT [--chat] [--max-new-tokens N] [--temperature T] [--adapter DIR] [--seed N] [--json]
 *   ragrpo serve --model DIR [--adapter DIR] [--port N] (src/serve: an OpenAI-compatible /v1/chat/completions)
 *   ragrpo reward-server --pipeline FILE [--port N] (src/reward-server.ts: the pipeline's rewards for TRL)
 * Errors are one line on stderr and exit code 1 (2 for bad arguments).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { importGguf } from '@ragrpo/gguf';
import { generateCompletion } from './generate.ts';
import { registerServe } from './serve/command.ts';
import { addRewardServerCommand } from './reward-server.ts';

function positiveInt(name: string) {
  return (v: string) => {
    if (!/^\d+$/.test(v) || Number(v) < 1) throw new InvalidArgumentError(`${name} must be a positive integer`);
    return Number(v);
  };
}

function nonNegative(name: string) {
  return (v: string) => {
    const x = Number(v);
    if (v.trim() === '' || !Number.isFinite(x) || x < 0) throw new InvalidArgumentError(`${name} must be a number >= 0`);
    return x;
  };
}

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

const defaultIo: Io = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) };

export function buildProgram(io: Io = defaultIo): Command {
  const program = new Command('ragrpo')
    .description('ragrpo tools: import GGUF models, generate completions, serve a model as an OpenAI-compatible API')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err });

  program
    .command('import-gguf')
    .description('turn a GGUF file (Llama/Qwen2; F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K) into a Hugging Face model folder')
    .argument('<path>', 'the .gguf file')
    .requiredOption('--out <dir>', 'the model folder to write (config.json, model.safetensors in F32, tokenizer files)')
    .action(async (file: string, o: { out: string }) => {
      let last = -1;
      const r = await importGguf(file, o.out, {
        onProgress: (p) => {
          const pct = Math.floor(((p.index + 1) / p.total) * 10);
          if (pct !== last && process.stderr.isTTY) { last = pct; io.err(`\rimport-gguf: ${p.index + 1}/${p.total} tensors`); }
        },
      });
      if (process.stderr.isTTY) io.err('\n');
      const types = Object.entries(r.tensorTypes).map(([t, n]) => `${n} ${t}`).join(', ');
      const size = fs.statSync(path.join(r.out, 'model.safetensors')).size;
      io.out(`${r.config.architecture} (${r.ggufArchitecture}): ${(r.parameters / 1e6).toFixed(1)}M parameters from ${types}; `
        + `vocabulary ${r.tokenizerSize}${r.hasChatTemplate ? ', chat template' : ''}${r.config.tieWordEmbeddings ? ', tied embeddings' : ''}; `
        + `${(size / 1e6).toFixed(0)} MB F32 -> ${r.out} in ${r.seconds.toFixed(1)} s\n`);
    });

  program
    .command('generate')
    .description('print a completion of a prompt (greedy unless --temperature) and its token count')
    .requiredOption('--model <dir>', 'a Hugging Face model folder (e.g. from import-gguf)')
    .requiredOption('--prompt <text>', 'the prompt')
    .option('--chat', 'wrap the prompt as a user message with the model\'s chat template', false)
    .option('--max-new-tokens <n>', 'most tokens to generate', positiveInt('--max-new-tokens'), 128)
    .option('--temperature <t>', 'sampling temperature; 0 = greedy', nonNegative('--temperature'), 0)
    .option('--top-p <p>', 'nucleus sampling (with --temperature > 0)', nonNegative('--top-p'), 1)
    .option('--adapter <dir>', 'a PEFT LoRA adapter folder (adapter_config.json + adapter_model.safetensors)')
    .option('--seed <n>', 'sampling seed', nonNegative('--seed'), 0)
    .option('--json', 'print one JSON object instead of text', false)
    .action(async (o: { model: string; prompt: string; chat: boolean; maxNewTokens: number; temperature: number; topP: number; adapter?: string; seed: number; json: boolean }) => {
      const r = await generateCompletion({
        model: o.model, prompt: o.prompt, chat: o.chat, maxNewTokens: o.maxNewTokens, temperature: o.temperature,
        topP: o.topP, adapter: o.adapter, seed: Math.floor(o.seed),
      });
      if (o.json) {
        io.out(JSON.stringify({ completion: r.text, tokens: r.tokens, finish_reason: r.finishReason, prompt_tokens: r.promptTokens, seconds: r.seconds }) + '\n');
      } else {
        io.out(r.text + '\n');
        io.err(`[${r.tokens} tokens, ${r.finishReason}; prompt ${r.promptTokens} tokens; ${r.seconds.toFixed(1)} s]\n`);
      }
    });
  registerServe(program, io);
  addRewardServerCommand(program, io);
  return program;
}

/** Runs the command line; returns the exit code. */
export async function main(argv: string[], io: Io = defaultIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    io.err(`ragrpo: ${(e as Error).message.split('\n')[0]}\n`);
    return 1;
  }
}
