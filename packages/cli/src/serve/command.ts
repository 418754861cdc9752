/**
 * `ragrpo serve --model DIR [--adapter DIR] [--port N] [--host H] [--served-model-name ID] [--api-key-env VAR] [--max-tokens N]`:
 * the policy as an OpenAI-compatible API (server.ts) until SIGINT/SIGTERM.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { loadPolicyEngine } from './policy-engine.ts';
import { startChatServer } from './server.ts';

interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

function port(v: string): number {
  if (!/^\d+$/.test(v) || Number(v) > 65535) throw new InvalidArgumentError('--port must be an integer 0..65535 (0: any free port)');
  return Number(v);
}

function positive(v: string): number {
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new InvalidArgumentError('--max-tokens must be a positive integer');
  return Number(v);
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

export function registerServe(program: Command, io: Io): void {
  program
    .command('serve')
    .description('serve a model folder (and a PEFT adapter) as an OpenAI-compatible /v1/chat/completions and /v1/models')
    .requiredOption('--model <dir>', 'a Hugging Face model folder with a chat template (e.g. from import-gguf)')
    .option('--adapter <dir>', 'a PEFT LoRA adapter folder (adapter_config.json + adapter_model.safetensors)')
    .option('--host <host>', 'address to listen on (loopback by default)', '127.0.0.1')
    .option('--port <n>', 'port (0: any free port)', port, 8000)
    .option('--served-model-name <id>', "the model id clients send (default: the folder's name, +the adapter's)")
    .option('--api-key-env <var>', 'require Authorization: Bearer <the value of this environment variable>')
    .option('--max-tokens <n>', 'completion tokens when a request sets no max_tokens', positive, 512)
    .action(async (o: { model: string; adapter?: string; host: string; port: number; servedModelName?: string; apiKeyEnv?: string; maxTokens: number }) => {
      let apiKey: string | null = null;
      if (o.apiKeyEnv) {
        apiKey = process.env[o.apiKeyEnv] ?? '';
        if (!apiKey) throw new Error(`--api-key-env ${o.apiKeyEnv}: the environment variable is not set or empty`);
      }
      const t0 = performance.now();
      const engine = await loadPolicyEngine({ model: o.model, adapter: o.adapter, name: o.servedModelName });
      let running;
      try {
        running = await startChatServer({ engine, host: o.host, port: o.port, apiKey, defaultMaxTokens: o.maxTokens, log: (l) => io.err(`ragrpo serve: ${l}\n`) });
      } catch (e) {
        await engine.close();
        throw new Error(`cannot listen on ${o.host}:${o.port} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      }
      if (!LOOPBACK.has(o.host) && !apiKey) io.err(`ragrpo serve: listening on ${o.host}, beyond loopback, without --api-key-env: anyone who reaches this port can use the model\n`);
      io.out(`ragrpo serve: ${engine.modelId} on ${running.url} (loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s; context ${engine.contextLength} tokens; Ctrl-C stops)\n`);
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          void running.close().then(() => engine.close()).then(resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}
