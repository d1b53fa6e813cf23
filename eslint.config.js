// Type-aware lint rules for gitwatch. The ones that matter most: a promise nobody awaits or handles (a
// lost failure in a daemon that never exits), and the `process` global outside the CLI's entry, which
// is the one module allowed to touch the real process (STYLE: "a thin process boundary").

import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'src/config/schema-types.ts', 'scripts/', 'eslint.config.js', 'bin/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test's test() and describe() return promises the runner itself tracks.
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] }] },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/only-throw-error': 'off',
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/cli/main.ts', 'src/cli/boundary.ts'],
    rules: {
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'Only src/cli/main.ts and boundary.ts touch the process; take what you need through the command context or deps.' },
      ],
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'node:process', message: 'Only src/cli/main.ts and boundary.ts touch the process.' },
            { name: 'process', message: 'Only src/cli/main.ts and boundary.ts touch the process.' },
          ],
        },
      ],
    },
  },
);
