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
    // composition root that loads adapters is src/cli/commands/start.ts; doctor's platform
    // probes (src/doctor/platforms/) talk to Slack and Discord through the same clients.
    files: ['src/**/*.ts'],
    ignores: ['src/cli/commands/start.ts', 'src/doctor/platforms/**'],
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
    // src/core holds the ports and the domain types every layer shares: it depends on nothing
    // concrete. Every other folder may import core; core imports only core, Node's built-ins,
    // zod, and the types (never the code) of pino's Logger and openai's chat messages.
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': 'off',
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '^\\.\\./', message: 'src/core imports nothing outside src/core' },
            {
              regex: '^(?!node:|zod$|pino$|openai(/|$)|\\.)',
              message: 'src/core depends on no library but zod (and types of pino and openai)',
            },
            {
              group: ['pino', 'openai', 'openai/*'],
              allowTypeImports: true,
              message: 'src/core may use only the types of pino and openai',
            },
          ],
        },
      ],
    },
  },
  {
    // Files a reader can take in at one sitting; functions that fit on a screen.
    files: ['src/**/*.ts', 'adapters/**/*.ts', 'adapters/**/*.js'],
    rules: {
      'max-lines': ['error', { max: 300, skipBlankLines: true, skipComments: true }],
      'max-lines-per-function': ['error', { max: 60, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    files: ['**/*.js'],
    extends: [tseslint.configs.disableTypeChecked],
  },
);
