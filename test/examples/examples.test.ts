/**
 * The programs in examples/ run as a user runs them (the compiled file, importing 'sampan'
 * through the package's own name), each on free ports and a temporary directory, finish in
 * seconds with exit code 0, and print what they claim. Every example has a test here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanEnv, freeRange, ROOT } from '../readme/support/blocks.js';

/** Each example's expected output, line by line. */
const EXAMPLES: Readonly<Record<string, readonly RegExp[]>> = {
  'replicated-map': [
    /^50 writes; snapshots at [1-9]\d*, [1-9]\d*, [1-9]\d*; replica 1's log now starts at \d+$/,
    /^requested snapshot of replica 1 at index \d+$/,
    /^replica 3 restarted: recovered from a snapshot [1-9]\d* time\(s\), key-10 = value-10, key-79 = value-79$/,
  ],
  'on-disk-counters': [
    /^visits = 10 after 10 increments$/,
    /^restarted: the state machines opened at applied index [1-9]\d*, [1-9]\d*, [1-9]\d*$/,
    /^visits = 11 after one more increment$/,
  ],
  'sharded-service': [
    /^9 keys over 3 shards: shard 1: [a-z ]+; shard 2: [a-z ]+; shard 3: [a-z ]+$/,
    /^session: incr -> 1, retried -> 1, next incr -> 2; hits = 2$/,
    /^replica 4 joined shard 2 and reads ([a-z]+) = [A-Z]+$/,
    /^shard 2 voters now: 1, 2, 4; removed: 3$/,
  ],
};

/** Runs `node dist/examples/<name>.js`; resolves with its exit code and output. */
function runExample(name: string, env: NodeJS.ProcessEnv): Promise<{ code: number | string; out: string; err: string }> {
  return new Promise((res) => {
    const p = spawn(process.execPath, [join(ROOT, 'dist', 'examples', `${name}.js`)], { cwd: ROOT, env: { ...cleanEnv(), ...env } });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    p.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const timer = setTimeout(() => p.kill('SIGKILL'), 30_000);
    p.once('exit', (code, sig) => {
      clearTimeout(timer);
      res({ code: code ?? sig ?? -1, out, err });
    });
  });
}

test('examples/: every program has a test here and an entry in examples/README.md', () => {
  const programs = readdirSync(join(ROOT, 'examples')).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3)).sort();
  assert.deepEqual(programs, Object.keys(EXAMPLES).sort());
  const readme = readFileSync(join(ROOT, 'examples', 'README.md'), 'utf8');
  const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  for (const p of programs) {
    const script = Object.entries(scripts).find(([, cmd]) => cmd.endsWith(`node dist/examples/${p}.js`));
    assert.ok(script !== undefined, `an npm script runs ${p}`);
    assert.ok(readme.includes(`npm run ${script[0]}`), `examples/README.md names npm run ${script[0]}`);
    assert.ok(readme.includes(`${p}.ts`), `examples/README.md names ${p}.ts`);
  }
});

for (const [name, lines] of Object.entries(EXAMPLES)) {
  test(`examples/${name}.ts runs to completion and prints what it claims`, { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), `sampan-example-${name}-`));
    try {
      const base = await freeRange(5);
      const started = Date.now();
      const r = await runExample(name, { BASE_PORT: String(base), DATA_DIR: dir });
      assert.equal(r.code, 0, `${r.out}${r.err}`);
      assert.equal(r.err, '', 'nothing on stderr');
      const out = r.out.trimEnd().split('\n');
      assert.equal(out.length, lines.length, r.out);
      lines.forEach((re, i) => assert.match(out[i] as string, re));
      assert.ok(Date.now() - started < 20_000, `${name} took ${Date.now() - started} ms`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
