// Lint rules that guard Pledge's layering and its durable code (README, "Architecture"):
// workflows stay deterministic, domain/ stays pure, no promise is left floating.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeBuiltins = ['fs', 'path', 'crypto', 'child_process', 'net', 'http', 'https', 'os', 'url', 'util', 'timers', 'stream', 'events', 'worker_threads', 'dns', 'zlib'];
const nodeImports = nodeBuiltins.flatMap((name) => [name, `node:${name}`, `${name}/*`, `node:${name}/*`]);

export default tseslint.config(
  { ignores: ['node_modules/', '.data/', 'coverage/', 'db/migrations/', 'test/histories/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
    },
  },
  {
    // Workflow code is replayed: no I/O, no Node built-ins, activities only as types (proxyActivities).
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'postgres', message: 'workflows do no I/O' }],
          patterns: [
            { group: nodeImports, message: 'workflows are deterministic: no Node built-ins' },
            { group: ['@temporalio/client', '@temporalio/worker', '@temporalio/activity', 'hono', '@hono/*'], message: 'not workflow-safe' },
            { group: ['../activities', '../activities/*', '../db/*', '../notifications/*', '../api/*'], allowTypeImports: true, message: 'workflows import activities as types only' },
          ],
        },
      ],
    },
  },
  {
    // The domain is pure: rules, schemas and message contracts, testable without any server.
    files: ['domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: nodeImports, message: 'domain/ is pure' },
            { group: ['@temporalio/*', 'postgres', 'hono', '@hono/*', 'nodemailer'], message: 'domain/ imports only domain/ and pure packages' },
            { group: ['../*', '!../domain'], message: 'domain/ imports only domain/' },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { ...tseslint.configs.disableTypeChecked.languageOptions, globals: { console: 'readonly', process: 'readonly' } },
  },
);
