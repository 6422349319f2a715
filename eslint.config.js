import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'helm/', '.bench-tmp/', '.tools/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: Object.fromEntries(
        [
          'process',
          'console',
          'Buffer',
          'URL',
          'URLSearchParams',
          'fetch',
          'Headers',
          'Response',
          'Request',
          'AbortController',
          'AbortSignal',
          'TextDecoder',
          'TextEncoder',
          'structuredClone',
          'crypto',
          'setTimeout',
          'clearTimeout',
          'setInterval',
          'clearInterval',
          'setImmediate',
          'queueMicrotask',
          'performance',
        ].map((name) => [name, 'readonly']),
      ),
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.object.name='process'][callee.property.name='exit']",
          message: 'Only src/main.ts calls process.exit.',
        },
      ],
    },
  },
  // TypeScript checks names itself; no-undef only misfires on types such as NodeJS.
  { files: ['**/*.ts'], rules: { 'no-undef': 'off' } },
  { files: ['src/main.ts', 'test/**', 'scripts/**', 'bench/**'], rules: { 'no-restricted-syntax': 'off' } },
  // Tests poke at JSON answers; typing every shape would add nothing.
  { files: ['test/**'], rules: { '@typescript-eslint/no-explicit-any': 'off' } },
);
