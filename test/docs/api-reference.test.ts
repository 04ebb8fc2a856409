/**
 * Keeps the generated API reference buildable and complete: runs TypeDoc (typedoc.json, the
 * same config `npm run docs:api` uses) into a temporary directory with validation on (exported
 * types not included, links that do not resolve, exported symbols without a doc comment) and
 * fails on any warning or error, listing every one TypeDoc printed.
 *
 * Not `--treatWarningsAsErrors`: TypeDoc 0.28 then stops after the first phase that warned
 * (conversion, before validation), so a failure would list only some of the problems and
 * each fix would reveal the next batch. Without it TypeDoc runs every phase and prints every
 * warning, and any warning at all fails the test: the same bar, reported in one go. Also checks
 * that typedoc.json documents exactly the entry points of package.json's "exports" map, so a
 * new public entry point cannot be left out of the reference.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

interface ExportTarget { readonly types?: string; readonly import?: string }

/** The TypeScript sources of package.json's "exports" entries (`./dist/src/x.js` → `src/x.ts`). */
function exportedSources(): string[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, string | ExportTarget> };
  const sources: string[] = [];
  for (const target of Object.values(pkg.exports)) {
    if (typeof target === 'string') continue; // ./package.json
    const js = target.import;
    assert.ok(js !== undefined && /^\.\/dist\/src\/.*\.js$/.test(js), `unexpected export target ${JSON.stringify(target)}`);
    sources.push(js.replace(/^\.\/dist\//, '').replace(/\.js$/, '.ts'));
  }
  return sources.sort();
}

test('typedoc.json documents every entry point of package.json "exports", and nothing else', () => {
  const config = JSON.parse(readFileSync(join(ROOT, 'typedoc.json'), 'utf8')) as { entryPoints: string[] };
  assert.deepEqual([...config.entryPoints].sort(), exportedSources());
});

test('the API reference builds with no TypeDoc warning (every exported symbol documented, every link resolved)', () => {
  const typedoc = join(dirname(createRequire(import.meta.url).resolve('typedoc/package.json')), 'bin', 'typedoc');
  const out = mkdtempSync(join(tmpdir(), 'sampan-apidocs-'));
  try {
    const run = spawnSync(process.execPath, [
      typedoc, '--options', 'typedoc.json', '--out', out,
      '--validation.notExported', '--validation.invalidLink', '--validation.notDocumented',
    ], { cwd: ROOT, encoding: 'utf8', timeout: 180_000, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } });
    // eslint-disable-next-line no-control-regex
    const output = `${run.stdout}${run.stderr}`.replace(/\x1b\[[0-9;]*m/g, '');
    const problems = output.split('\n').filter((l) => /^\[(warning|error)\]/.test(l));
    assert.deepEqual(problems, [], `TypeDoc reported ${problems.length} problem(s):\n${problems.join('\n')}`);
    assert.equal(run.error, undefined, `TypeDoc did not run: ${String(run.error)}`);
    assert.equal(run.status, 0, `TypeDoc exited with ${String(run.status)} (signal ${String(run.signal)}):\n${output}`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
