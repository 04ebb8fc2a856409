// Lint rules: strict TypeScript everywhere, a purity fence around src/core/, the runtime fence
// (time, timers, randomness, files and the process only through an injected Runtime), and the
// layers' import fences (imports point down only; see "Layout" in the README).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** The folders of src/ a layer must not import, by layer (a folder is a layer). */
const LAYERS = {
  core: ['contracts', 'logdb', 'transport', 'rsm', 'snapshot', 'host', 'kv', 'cli', 'metrics'],
  // The one encoding of entries, memberships and snapshot records (WAL, wire, snapshot files):
  // it sees core's types and nothing above; core imports it (config-change payloads).
  encoding: ['contracts', 'logdb', 'transport', 'rsm', 'snapshot', 'host', 'kv', 'cli', 'metrics'],
  // The interfaces users implement or receive (dragonboat's raftio): core types and errors only.
  contracts: ['encoding', 'logdb', 'transport', 'rsm', 'snapshot', 'host', 'kv', 'cli', 'metrics'],
  logdb: ['transport', 'rsm', 'snapshot', 'host', 'kv', 'cli', 'metrics'],
  transport: ['rsm', 'snapshot', 'host', 'kv', 'cli', 'metrics'],
  rsm: ['logdb', 'transport', 'snapshot', 'host', 'kv', 'cli', 'metrics'],
  snapshot: ['transport', 'rsm', 'host', 'kv', 'cli', 'metrics'],
  host: ['kv', 'cli', 'metrics'],
  metrics: ['kv', 'cli'],
  // The injectable runtime (Node's clocks, timers, randomness, fs, process): imports no layer.
  runtime: ['core', 'encoding', 'contracts', 'logdb', 'transport', 'rsm', 'snapshot', 'host', 'kv', 'cli', 'metrics'],
  // The service is built on the public API only, like any user's application.
  kv: ['core', 'encoding', 'contracts', 'logdb', 'transport', 'rsm', 'snapshot', 'host', 'cli'],
  cli: ['core', 'encoding', 'contracts', 'logdb', 'transport', 'rsm', 'snapshot', 'host'],
};

/**
 * The runtime fence (issue 18 §1): library code takes time, timers, randomness, the file system
 * and the process from the Runtime it was given (src/runtime), never from Node directly, so a
 * simulator or a fault-injecting test can supply them. Everything in src/ but src/runtime (Node
 * itself) and the service application src/kv and src/cli (it runs only as a real process) is
 * fenced. src/core and src/encoding are stricter still (purity, below).
 */
const RUNTIME_FREE = ['runtime', 'kv', 'cli'];
const viaRuntime = 'take it from the injected Runtime (src/runtime), not from Node directly';
const RUNTIME_IMPORTS = [
  ...['fs', 'fs/promises', 'timers', 'timers/promises'].flatMap((m) => [m, `node:${m}`])
    .map((name) => ({ name, message: `${name}: ${viaRuntime}.` })),
  ...['crypto', 'node:crypto'].map((name) => ({ name, importNames: ['randomInt', 'randomBytes', 'randomUUID'], message: `randomness: ${viaRuntime}.` })),
];
const runtimeFence = {
  files: ['src/**/*.ts'],
  ignores: RUNTIME_FREE.map((l) => `src/${l}/**`),
  rules: {
    'no-restricted-imports': ['error', { paths: RUNTIME_IMPORTS }],
    'no-restricted-globals': ['error',
      ...['setTimeout', 'setInterval', 'setImmediate', 'clearTimeout', 'clearInterval', 'clearImmediate']
        .map((name) => ({ name, message: `timers: ${viaRuntime} (runtime.timers).` }))],
    'no-restricted-properties': ['error',
      { object: 'Math', property: 'random', message: `randomness: ${viaRuntime} (runtime.random).` },
      { object: 'Date', property: 'now', message: `the clock: ${viaRuntime} (runtime.clock).` },
      { object: 'performance', property: 'now', message: `the clock: ${viaRuntime} (runtime.clock).` },
      { object: 'process', property: 'pid', message: `the process: ${viaRuntime} (runtime.process).` },
      { object: 'process', property: 'kill', message: `the process: ${viaRuntime} (runtime.process).` }],
  },
};

/** The runtime fence's import paths for `layer` (none for the layers it does not fence). */
const runtimePaths = (layer) => (RUNTIME_FREE.includes(layer) ? [] : RUNTIME_IMPORTS);

/** no-restricted-imports patterns fencing `layer` off the folders above it. */
function layerPatterns(layer) {
  return [{ group: LAYERS[layer].map((f) => `../${f}/*`), message: `src/${layer} may not import these layers (imports point down only).` }];
}

/** The layers fenced as pure below (their import fence is part of their purity rules). */
const PURE = ['core', 'encoding'];

const layerFences = Object.keys(LAYERS).filter((l) => !PURE.includes(l)).map((layer) => ({
  files: [`src/${layer}/**/*.ts`],
  rules: { 'no-restricted-imports': ['error', { patterns: layerPatterns(layer), paths: runtimePaths(layer) }] },
}));

/**
 * src/core and src/encoding are pure: no Node modules, timers, clock or promises. The one
 * exception is src/encoding/crc32.ts, which binds node:zlib's native CRC-32: nothing pure may
 * import it (so core, which imports src/encoding, stays pure through it).
 */
const crc32Fence = { group: ['../encoding/crc32*', './crc32*'], message: 'crc32.ts binds node:zlib: pure code may not import it.' };

const purity = (layer) => ({
  files: [`src/${layer}/**/*.ts`],
  ignores: ['src/encoding/crc32.ts'],
  rules: {
    'no-restricted-imports': ['error', {
      patterns: [{ group: ['node:*', 'fs', 'path', 'os', 'crypto', 'net', 'events', 'timers', 'zlib'],
        message: `src/${layer} is pure: no Node modules.` }, crc32Fence, ...layerPatterns(layer)],
    }],
    'no-restricted-globals': ['error',
      { name: 'setTimeout', message: `src/${layer} is pure: time comes in through tick().` },
      { name: 'setInterval', message: `src/${layer} is pure: time comes in through tick().` },
      { name: 'setImmediate', message: `src/${layer} is pure.` },
      { name: 'queueMicrotask', message: `src/${layer} is pure.` },
      { name: 'Date', message: `src/${layer} is pure: no wall clock.` },
      { name: 'Promise', message: `src/${layer} is synchronous.` },
      { name: 'process', message: `src/${layer} is pure.` },
      { name: 'performance', message: `src/${layer} is pure: no clock.` },
    ],
    'no-restricted-properties': ['error',
      { object: 'Math', property: 'random', message: 'Use the injected seeded random source.' }],
    'no-restricted-syntax': ['error',
      { selector: 'FunctionDeclaration[async=true]', message: `src/${layer} is synchronous.` },
      { selector: 'ArrowFunctionExpression[async=true]', message: `src/${layer} is synchronous.` },
      { selector: 'FunctionExpression[async=true]', message: `src/${layer} is synchronous.` },
      { selector: 'AwaitExpression', message: `src/${layer} is synchronous.` },
      { selector: 'TSEnumDeclaration', message: 'Use as-const objects, not enums.' },
    ],
  },
});

const crc32LayerFence = {
  files: ['src/encoding/crc32.ts'],
  rules: { 'no-restricted-imports': ['error', { patterns: layerPatterns('encoding'), paths: RUNTIME_IMPORTS }] },
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
  // Before the purity fences, whose stricter rules replace these in src/core and src/encoding.
  runtimeFence,
  ...PURE.map(purity),
  crc32LayerFence,
  ...layerFences,
);
