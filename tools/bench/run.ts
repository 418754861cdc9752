import { Command } from 'commander';
import { reportSuite, type Metrics } from './report.ts';

// `npm run bench -- <suite>`: each suite lives in its own file and returns its metrics.
const suites: Record<string, () => Promise<Metrics>> = {
  retrieval: async () => (await import('./retrieval.ts')).retrievalSuite(),
  engine: async () => (await import('./engine.ts')).engineSuite(),
  generate: async () => (await import('./generate.ts')).generateSuite(),
  grpo: async () => (await import('./grpo.ts')).grpoSuite(),
  learning: async () => (await import('./learning.ts')).learningSuite(),
  trl: async () => (await import('./trl.ts')).trlSuite(),
};

const program = new Command('bench')
  .argument('<suite>', `one of: ${Object.keys(suites).join(', ')}`)
  .action(async (suite: string) => {
    const run = suites[suite];
    if (!run) {
      console.error(`unknown suite '${suite}': choose one of ${Object.keys(suites).join(', ')}`);
      process.exitCode = 1;
      return;
    }
    await reportSuite(suite, await run());
  });

await program.parseAsync(process.argv);
