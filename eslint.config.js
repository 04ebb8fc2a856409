// Lint rules: strict TypeScript everywhere, and a purity fence around src/core/.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const corePurity = {
  files: ['src/core/**/*.ts'],
  rules: {
    'no-restricted-imports': ['error', {
      patterns: [{ group: ['node:*', 'fs', 'path', 'os', 'crypto', 'net', 'events', 'timers'],
        message: 'src/core is pure: no Node modules.' }],
    }],
    'no-restricted-globals': ['error',
      { name: 'setTimeout', message: 'src/core is pure: time comes in through tick().' },
      { name: 'setInterval', message: 'src/core is pure: time comes in through tick().' },
      { name: 'setImmediate', message: 'src/core is pure.' },
      { name: 'queueMicrotask', message: 'src/core is pure.' },
      { name: 'Date', message: 'src/core is pure: no wall clock.' },
      { name: 'Promise', message: 'src/core is synchronous.' },
      { name: 'process', message: 'src/core is pure.' },
      { name: 'performance', message: 'src/core is pure: no clock.' },
    ],
    'no-restricted-properties': ['error',
      { object: 'Math', property: 'random', message: 'Use the injected seeded random source.' }],
    'no-restricted-syntax': ['error',
      { selector: 'FunctionDeclaration[async=true]', message: 'src/core is synchronous.' },
      { selector: 'ArrowFunctionExpression[async=true]', message: 'src/core is synchronous.' },
      { selector: 'FunctionExpression[async=true]', message: 'src/core is synchronous.' },
      { selector: 'AwaitExpression', message: 'src/core is synchronous.' },
      { selector: 'TSEnumDeclaration', message: 'Use as-const objects, not enums.' },
    ],
  },
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'bin/**', 'eslint.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      // node:test's test()/describe() return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': ['error', {
        allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] }],
      }],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'max-depth': ['error', 4],
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      '@typescript-eslint/explicit-module-boundary-types': 'error',
      'no-restricted-syntax': ['error',
        { selector: 'TSEnumDeclaration', message: 'Use as-const objects, not enums.' }],
    },
  },
  corePurity,
);
