// The worker thread's entry: the worker module is TypeScript, and a worker thread does not get the
// parent's tsx loader (neither under tsx's CLI on Node 20 nor under vitest), so register it here.
const [esm, cjs] = await Promise.all([import('tsx/esm/api'), import('tsx/cjs/api')]);
esm.register();
cjs.register();
await import('./replica-worker.ts');
