// Lint rules: strict TypeScript everywhere, a purity fence around src/core/, and the layers'
// import fences (imports point down only; see "Layout" in the README).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** The folders of src/ a layer must not import, by layer (a folder is a layer). */
const LAYERS = {
  core: ['contracts', 'logdb', 'transport', 'rsm', 'snapshot', 'host', 'kv', 'cli', 'metrics'],
  // The interfaces users implement or receive (dragonboat's raftio): core types and errors only.
  contracts: ['logdb', 'transport', 'rsm', 'snapshot', 'host', 'kv', 'cli', 'metrics'],
  logdb: ['transport', 'rsm', 'snapshot', 'host', 'kv', 'cli', 'metrics'],
  // transport/frame.ts shares the LogDB's CRC-32 until one encoding layer exists.
  transport: ['rsm', 'snapshot', 'host', 'kv', 'cli', 'metrics'],
  rsm: ['logdb', 'transport', 'snapshot', 'host', 'kv', 'cli', 'metrics'],
  snapshot: ['transport', 'rsm', 'host', 'kv', 'cli', 'metrics'],
  host: ['kv', 'cli', 'metrics'],
  metrics: ['kv', 'cli'],
  // The service is built on the public API only, like any user's application.
  kv: ['core', 'contracts', 'logdb', 'transport', 'rsm', 'snapshot', 'host', 'cli'],
  cli: ['core', 'contracts', 'logdb', 'transport', 'rsm', 'snapshot', 'host'],
};

/** no-restricted-imports patterns fencing `layer` off the folders above it. */
function layerPatterns(layer) {
  return [{ group: LAYERS[layer].map((f) => `../${f}/*`), message: `src/${layer} may not import these layers (imports point down only).` }];
}

const layerFences = Object.keys(LAYERS).filter((l) => l !== 'core').map((layer) => ({
  files: [`src/${layer}/**/*.ts`],
  rules: { 'no-restricted-imports': ['error', { patterns: layerPatterns(layer) }] },
}));

const corePurity = {
  files: ['src/core/**/*.ts'],
  rules: {
    'no-restricted-imports': ['error', {
      patterns: [{ group: ['node:*', 'fs', 'path', 'os', 'crypto', 'net', 'events', 'timers'],
        message: 'src/core is pure: no Node modules.' }, ...layerPatterns('core')],
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
  ...layerFences,
);
