/**
 * Scripted interaction tests (etcd raft's datadriven style): each `interaction/*.txt` script is
 * a sequence of commands with the output recorded under each one. The scripts are read from
 * the source tree, never compiled. Run with `UPDATE_GOLDEN=1` to rewrite the recorded output
 * from the actual output, then review the change as a diff before committing it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { InteractionDriver } from './support/interaction-driver.js';
import { lineDiff, normalizeOutput, parseScript, renderScript } from './support/golden-script.js';

/** The scripts' directory: from dist/test/core/ back to the source tree, or beside this file. */
function scriptDir(): string {
  const candidates = [
    fileURLToPath(new URL('../../../test/core/interaction/', import.meta.url)),
    fileURLToPath(new URL('./interaction/', import.meta.url)),
  ];
  const dir = candidates.find((d) => existsSync(d) && readdirSync(d).some((f) => f.endsWith('.txt')));
  if (dir === undefined) throw new Error(`interaction scripts not found in ${candidates.join(' or ')}`);
  return dir;
}

const dir = scriptDir();
const update = process.env['UPDATE_GOLDEN'] === '1';
const files = readdirSync(dir).filter((f) => f.endsWith('.txt')).sort();

for (const file of files) {
  const path = join(dir, file);
  const text = readFileSync(path, 'utf8');
  test(`interaction: ${file}`, () => {
    const script = parseScript(text, `test/core/interaction/${file}`);
    const driver = new InteractionDriver();
    const outputs: string[][] = [];
    const failures: string[] = [];
    for (const b of script.blocks) {
      let actual: string[];
      try {
        actual = normalizeOutput(driver.run(b.command));
      } catch (e) {
        throw new Error(`test/core/interaction/${file}:${b.line}: ${b.command}: ${(e as Error).message}`, { cause: e });
      }
      outputs.push(actual);
      const expected = normalizeOutput(b.expected);
      if (!update && expected.join('\n') !== actual.join('\n')) {
        failures.push([
          `test/core/interaction/${file}:${b.line}: ${b.command}`,
          '  (- recorded, + actual)',
          ...lineDiff(expected, actual).map((l) => `  ${l}`),
        ].join('\n'));
      }
    }
    if (update) {
      const next = renderScript(script, outputs);
      if (next !== text) writeFileSync(path, next);
      return;
    }
    assert.ok(failures.length === 0, `${failures.length} command(s) differ from the recorded output; `
      + `rerun with UPDATE_GOLDEN=1 if the change is intended, and review the diff:\n\n${failures.join('\n\n')}`);
  });
}
