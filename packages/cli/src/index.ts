// @ragrpo/cli: the `ragrpo` command (bin/ragrpo.mjs) and its parts, for scripts and tests.
export { main, buildProgram, type Io } from './main.ts';
export { generateCompletion, type GenerateOptions, type GenerateResult } from './generate.ts';
