/**
 * The runtime fence of eslint.config.js (issue 18 §1): library code outside src/runtime takes
 * time, timers, randomness, files and the process from its Runtime. ESLint, with the
 * repository's own configuration, is run on a probe that reaches each of them directly, as if
 * the probe were a file of the host, the WAL, the transport and a top-level module: every reach
 * is reported. The same probe passes in src/runtime (Node itself) and in src/kv and src/cli
 * (the service application, which runs only as a real process).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const PROBE = `import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { randomInt, createHash } from 'node:crypto';
export async function probe(): Promise<number> {
  setTimeout(() => {}, 1);
  setImmediate(() => {});
  clearInterval(setInterval(() => {}, 1));
  await sleep(1);
  void readFileSync; void readFile; void createHash;
  process.kill(process.pid, 0);
  return Math.random() + Date.now() + performance.now() + randomInt(3);
}
`;

/** What the fence must report in a fenced file, as `rule: what`. */
const EXPECTED = [
  "no-restricted-imports: 'node:fs'", "no-restricted-imports: 'node:fs/promises'", "no-restricted-imports: 'node:timers/promises'",
  "no-restricted-imports: 'randomInt'",
  "no-restricted-globals: 'setTimeout'", "no-restricted-globals: 'setImmediate'", "no-restricted-globals: 'clearInterval'", "no-restricted-globals: 'setInterval'",
  "no-restricted-properties: 'process.kill'", "no-restricted-properties: 'process.pid'", "no-restricted-properties: 'Math.random'",
  "no-restricted-properties: 'Date.now'", "no-restricted-properties: 'performance.now'",
].sort();

async function fenceMessages(eslint: ESLint, filePath: string): Promise<string[]> {
  const [r] = await eslint.lintText(PROBE, { filePath });
  return (r?.messages ?? [])
    .filter((m) => m.ruleId !== null && m.ruleId.startsWith('no-restricted-'))
    .map((m) => `${m.ruleId}: ${/'[^']+'/.exec(m.message)?.[0] ?? m.message}`)
    .sort();
}

test('the runtime fence reports every direct reach for time, timers, randomness, files and the process outside src/runtime, src/kv and src/cli', { timeout: 120_000 }, async () => {
  const eslint = new ESLint({ cwd: ROOT });
  for (const file of ['src/host/tick-clock.ts', 'src/logdb/wal-prealloc.ts', 'src/transport/dial.ts', 'src/snapshot/durable-fs.ts', 'src/metrics/attach-metrics.ts', 'src/logger.ts']) {
    assert.deepEqual(await fenceMessages(eslint, file), EXPECTED, file);
  }
  for (const file of ['src/runtime/sleep.ts', 'src/kv/limits.ts', 'src/cli/args.ts']) {
    assert.deepEqual(await fenceMessages(eslint, file), [], `${file} is outside the fence`);
  }
});
