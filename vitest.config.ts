import { defineConfig } from 'vitest/config';

// One vitest run covers every package; each package keeps its tests in `test/`.
export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'tools/**/*.test.ts', 'pipelines/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
