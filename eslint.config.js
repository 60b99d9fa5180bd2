// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'test-output/', 'sandbot-out/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Template literals with numbers are idiomatic in log and user messages.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      // Node's own streams and dockerode hand us void-returning callbacks.
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      // `() => void thing()` and `x => list.push(x)` read fine as callbacks.
      '@typescript-eslint/no-confusing-void-expression': 'off',
    },
  },
  {
    // DESIGN.md: core modules never import an adapter or a chat platform's SDK. The one
    // composition root that loads adapters is src/cli/commands/start.ts.
    files: ['src/**/*.ts'],
    ignores: ['src/cli/commands/start.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/adapters/**'], message: 'core must not import adapters' },
            {
              group: ['@slack/*', 'discord.js', '@discordjs/*'],
              message: 'platform SDKs belong in adapters/',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js'],
    extends: [tseslint.configs.disableTypeChecked],
  },
);
