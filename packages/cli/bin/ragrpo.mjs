#!/usr/bin/env node
// `npx ragrpo <command>`: runs the TypeScript sources through tsx (the workspace runs TS directly, no build step).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/main.ts');
process.exitCode = await main(process.argv);
