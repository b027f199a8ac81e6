// @ts-check
import tseslint from 'typescript-eslint';

const nodeBuiltins = [
  'node:*',
  'fs',
  'fs/*',
  'path',
  'os',
  'crypto',
  'http',
  'https',
  'net',
  'dns',
  'child_process',
  'stream',
  'zlib',
  'url',
  'util',
  'worker_threads',
];

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'data/**', 'test-artifacts/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // sharp is imported by the image module only (and the simulator's own image generator).
    files: ['src/**/*.ts', 'tooling/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    ignores: ['src/images/**', 'tooling/simulator/images.ts', 'bench/**', 'test/helpers/images.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [{ name: 'sharp', message: 'Only src/images imports sharp.' }] },
      ],
    },
  },
  {
    // The AWS SDK is used by the blob store module only (tests may look into a bucket with it directly).
    // This repeats the sharp rule: a later block's no-restricted-imports replaces the one above.
    files: ['src/**/*.ts', 'tooling/**/*.ts'],
    ignores: ['src/storage/**', 'src/images/**', 'tooling/simulator/images.ts', 'src/workflows/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'sharp', message: 'Only src/images imports sharp.' }],
          patterns: [{ group: ['@aws-sdk/*'], message: 'Only src/storage imports the AWS SDK.' }],
        },
      ],
    },
  },
  {
    // Workflows run in Temporal's deterministic sandbox: no I/O libraries, and activities only as types.
    files: ['src/workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: nodeBuiltins,
              message: 'Workflows must be deterministic: no Node built-ins (use an activity).',
            },
            {
              group: [
                'pg',
                'pg-*',
                'sharp',
                'got',
                'undici',
                'axios',
                'node-fetch',
                'fastify',
                'pino',
                '@aws-sdk/*',
              ],
              message: 'Workflows must not do I/O: call an activity.',
            },
            {
              group: [
                '**/activities/**',
                '**/db/**',
                '**/storage/**',
                '**/images/**',
                '**/operators/**',
                '**/config.js',
              ],
              message:
                'Workflows import activities as types only (import type) and call them through proxyActivities.',
              allowTypeImports: true,
            },
          ],
        },
      ],
    },
  },
  {
    // Code that fits in one's head (docs/development.md, "Source layout"): a file a reader can hold, a
    // function that reads top to bottom. Tests are exempt: a scenario reads best written out.
    files: ['src/**/*.ts', 'tooling/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts', 'soak/**/*.ts'],
    rules: {
      'max-lines': ['warn', { max: 300, skipBlankLines: true, skipComments: true }],
      'max-lines-per-function': ['warn', { max: 80, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    // One config module reads the environment.
    files: ['src/**/*.ts', 'tooling/**/*.ts'],
    ignores: ['src/config.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Read configuration through src/config.ts.' },
      ],
    },
  },
);
