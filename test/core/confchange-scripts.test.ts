/**
 * Scripted tests of the change planner (test/core/confchange/*.txt) and the joint quorums
 * (test/core/quorum/*.txt), in the style of etcd raft's datadriven `confchange` and `quorum`
 * tests; the commands are in support/confchange-driver.ts. Run with `UPDATE_GOLDEN=1` to
 * rewrite the recorded output, then review the diff.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { ConfChangeDriver } from './support/confchange-driver.js';
import { lineDiff, normalizeOutput, parseScript, renderScript } from './support/golden-script.js';

const update = process.env['UPDATE_GOLDEN'] === '1';

for (const sub of ['confchange', 'quorum']) {
  const dir = fileURLToPath(new URL(`../../../test/core/${sub}/`, import.meta.url));
  if (!existsSync(dir)) throw new Error(`scripts not found in ${dir}`);
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.txt')).sort()) {
    test(`${sub}: ${file}`, () => {
      const path = join(dir, file);
      const text = readFileSync(path, 'utf8');
      const script = parseScript(text, `test/core/${sub}/${file}`);
      const driver = new ConfChangeDriver();
      const outputs: string[][] = [];
      const failures: string[] = [];
      for (const b of script.blocks) {
        const actual = normalizeOutput(driver.run(b.command));
        outputs.push(actual);
        const expected = normalizeOutput(b.expected);
        if (!update && expected.join('\n') !== actual.join('\n')) {
          failures.push([`test/core/${sub}/${file}:${b.line}: ${b.command}`, ...lineDiff(expected, actual).map((l) => `  ${l}`)].join('\n'));
        }
      }
      if (update) {
        const next = renderScript(script, outputs);
        if (next !== text) writeFileSync(path, next);
        return;
      }
      assert.ok(failures.length === 0, `${failures.length} command(s) differ; rerun with UPDATE_GOLDEN=1 if intended:\n\n${failures.join('\n\n')}`);
    });
  }
}
