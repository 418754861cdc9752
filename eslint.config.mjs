import nx from '@nx/eslint-plugin';

// Module boundaries: a stage imports only shared and engine packages and the public index of the
// two stages whose libraries later stages call (generate and reward, tagged type:stage-library),
// never another stage; shared packages import only each other; the engine imports shared packages and itself.
export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  ...nx.configs['flat/javascript'],
  { ignores: ['**/node_modules', 'artifacts', 'models', 'dist', '.nx', '**/*.cjs', 'tools/reference/**'] },
  {
    files: ['**/*.ts', '**/*.mjs', '**/*.js'],
    rules: {
      '@nx/enforce-module-boundaries': ['error', {
        enforceBuildableLibDependency: false,
        allow: [],
        depConstraints: [
          { sourceTag: 'type:stage', onlyDependOnLibsWithTags: ['type:shared', 'type:engine', 'type:stage-library'] },
          { sourceTag: 'type:engine', onlyDependOnLibsWithTags: ['type:shared', 'type:engine'] },
          { sourceTag: 'type:shared', onlyDependOnLibsWithTags: ['type:shared'] },
          { sourceTag: 'type:tooling', onlyDependOnLibsWithTags: ['*'] },
        ],
      }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
];
