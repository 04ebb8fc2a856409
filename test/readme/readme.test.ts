/**
 * The README's code runs as written. Every fenced block is either run here or listed in
 * NOT_RUN with the reason, so a new block cannot go untested silently:
 * - the library example (```ts) is compiled with the Install section's package.json and
 *   tsconfig and run as three processes with the Install section's commands;
 * - the curl tour runs every line with curl against `sampan demo` and checks the answer its
 *   comment shows;
 * - the command tours run `--help` and check that every flag they use exists;
 * - the fragments (FRAGMENTS: the shard handle, metrics and protocol-core snippets) are type-checked
 *   against the package with their free names declared;
 * - the Install section's word on CommonJS (`require('sampan')` fails with
 *   ERR_PACKAGE_PATH_NOT_EXPORTED) holds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BIN, killAll, run, until } from '../kv/support/procs.js';
import { cleanEnv, expectation, freeRange, readmeBlocks, ROOT, shellWords, splitComment, type Block } from './support/blocks.js';

const execFileP = promisify(execFile);

/** Blocks not run, each with the reason; `match` is a string only that block contains. */
const NOT_RUN: ReadonlyArray<{ readonly match: string; readonly reason: string }> = [
  { match: 'npm ci && npm start', reason: "the quick start: `npm ci` would reinstall this repository's node_modules; `npm start` is test/package/npm-start.test.ts" },
  { match: 'npm install sampan', reason: 'installs from the npm registry; the installed package is test/package/package.test.ts' },
  { match: 'the public API only (src/index.ts)', reason: 'a picture of the source layout, not a command; the import fences it describes are eslint.config.js, which npm test runs' },
];

/**
 * Fragments: not run (they lean on names a whole program would define), but type-checked
 * against the package with `prelude` declaring those names.
 */
const FRAGMENTS: ReadonlyArray<{ readonly match: string; readonly reason: string; readonly prelude: string }> = [
  {
    match: "from 'sampan/metrics'",
    reason: "`nh` is a NodeHost such as the library example's; sampan/metrics is test/metrics/",
    prelude: "import type { NodeHost as NH } from 'sampan';\ndeclare const nh: NH;\n",
  },
  {
    match: 'nh.shard(',
    reason: '`nh`, `members`, `cmd` and `MapStateMachine` are the library example\'s; handles and the options form are test/host/shard-handle.test.ts',
    prelude: [
      "import type { NodeHost as NH, StateMachine as SM } from 'sampan';",
      'declare const nh: NH;',
      'declare const members: Map<number, string>;',
      'declare const cmd: Uint8Array;',
      'declare class MapStateMachine implements SM<string, string | undefined> {',
      '  update(): never; lookup(key: string): string | undefined; saveSnapshot(): Promise<void>;',
      '  recoverFromSnapshot(): Promise<void>; close(): void;',
      '}',
      '',
    ].join('\n'),
  },
  {
    match: "from 'sampan/core'",
    reason: "`transport` and `stateMachine` stand for a host's own; the Peer loop is test/core/",
    prelude: [
      "import type { Entry as E, Message as M } from 'sampan/core';",
      'declare const transport: { onMessage(fn: (m: M) => void): void; send(m: M): void };',
      'declare const stateMachine: { apply(e: E): void; readonly lastApplied: number };',
      '',
    ].join('\n'),
  },
];

/** What the test does with a block. */
type Use = 'library-example' | 'package-json' | 'tsconfig' | 'run-replicas' | 'curl-tour' | 'command-tour' | 'fragment' | 'not-run';

function useOf(b: Block): Use | undefined {
  if (NOT_RUN.some((n) => b.text.includes(n.match))) return 'not-run';
  if (b.lang === 'ts' && FRAGMENTS.some((f) => b.text.includes(f.match))) return 'fragment';
  if (b.lang === 'ts' && b.text.includes('NodeHost.create(')) return 'library-example';
  if (b.lang === 'json' && b.text.includes('compilerOptions')) return 'tsconfig';
  if (b.lang === 'json' && b.text.includes('"type": "module"')) return 'package-json';
  if (b.lang === 'sh' && b.text.includes('npx tsc')) return 'run-replicas';
  const lines = codeLines(b);
  if (b.lang === 'sh' && lines.length > 0 && lines.every((l) => l.startsWith('curl '))) return 'curl-tour';
  // Servers that run until stopped, on fixed ports and directories: their flags are checked.
  if (b.lang === 'sh' && lines.some((l) => l.startsWith('sampan '))) return 'command-tour';
  return undefined;
}

/** The block's command lines, continuation lines joined, comment-only lines dropped. */
function codeLines(b: Block): string[] {
  const out: string[] = [];
  let cur = '';
  for (const raw of b.text.split('\n')) {
    const l = raw.trim();
    if (cur === '' && (l === '' || l.startsWith('#'))) continue;
    if (l.endsWith('\\')) {
      cur += `${l.slice(0, -1)} `;
      continue;
    }
    out.push(cur + l);
    cur = '';
  }
  return out;
}

function only(use: Use): Block {
  const bs = readmeBlocks().filter((b) => useOf(b) === use);
  assert.equal(bs.length, 1, `exactly one README block is the ${use}`);
  return bs[0] as Block;
}

test('README: every fenced block is run by this test or listed as not run, with the reason', () => {
  const blocks = readmeBlocks();
  for (const b of blocks) assert.notEqual(useOf(b), undefined, `README.md:${b.line}: a \`\`\`${b.lang} block no test runs:\n${b.text}`);
  for (const n of [...NOT_RUN, ...FRAGMENTS]) assert.equal(blocks.filter((b) => b.text.includes(n.match)).length, 1, `one block contains ${n.match}`);
  for (const u of ['library-example', 'package-json', 'tsconfig', 'run-replicas', 'curl-tour'] as const) only(u);
});

/** A user's project in `dir`: the README's package.json and tsconfig, this repository linked in as the package. */
function userProject(dir: string): void {
  mkdirSync(join(dir, 'node_modules', '.bin'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), only('package-json').text);
  writeFileSync(join(dir, 'tsconfig.json'), only('tsconfig').text);
  symlinkSync(ROOT, join(dir, 'node_modules', 'sampan'));
  symlinkSync(join(ROOT, 'node_modules', 'typescript'), join(dir, 'node_modules', 'typescript'));
  symlinkSync(join(ROOT, 'node_modules', '@types'), join(dir, 'node_modules', '@types'));
  // A dependency of sampan, hoisted next to it by npm: the metrics fragment imports it.
  symlinkSync(join(ROOT, 'node_modules', 'prom-client'), join(dir, 'node_modules', 'prom-client'));
  symlinkSync('../typescript/bin/tsc', join(dir, 'node_modules', '.bin', 'tsc'));
}

test('README: the fragments type-check against the package, with their free names declared', { timeout: 90_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'sampan-readme-fragments-'));
  try {
    userProject(dir);
    const blocks = readmeBlocks();
    FRAGMENTS.forEach((f, i) => {
      const b = blocks.find((x) => x.text.includes(f.match)) as Block;
      writeFileSync(join(dir, `fragment-${i}.ts`), `${f.prelude}${b.text}\nexport {};\n`);
    });
    const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '-p', dir],
      { cwd: dir, encoding: 'utf8', timeout: 80_000 });
    assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('README: the library example, compiled as the Install section says, runs as three processes', { timeout: 120_000 }, async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'sampan-readme-'));
  const app = join(tmp, 'app');
  const procs: Array<ReturnType<typeof spawn>> = [];
  try {
    userProject(app);
    writeFileSync(join(app, 'replica.ts'), only('library-example').text);

    const [compile, start] = codeLines(only('run-replicas')).map((l) => splitComment(l).cmd);
    assert.equal(compile, 'npx tsc');
    const tsc = spawnSync('bash', ['-c', compile], { cwd: app, env: cleanEnv(), encoding: 'utf8', timeout: 90_000 });
    assert.equal(tsc.status, 0, `${compile}: ${tsc.stdout}${tsc.stderr}`);

    const m = /^((?:[A-Z_]+=\S+\s+)+)(node \S+)$/.exec(start as string);
    assert.ok(m !== null && (m[1] as string).includes('REPLICA_ID=1'), `a start line like REPLICA_ID=1 node dist/replica.js: ${start}`);
    const base = await freeRange(4);
    const outs = ['', '', ''];
    const exits: Array<Promise<number | string>> = [];
    for (const id of [1, 2, 3]) {
      const cmd = `${(m[1] as string).replace('REPLICA_ID=1', `REPLICA_ID=${id}`)}exec ${m[2] as string}`;
      const p = spawn('bash', ['-c', cmd], {
        cwd: app, env: { ...cleanEnv(), BASE_PORT: String(base), DATA_DIR: tmp }, stdio: ['ignore', 'pipe', 'pipe'],
      });
      procs.push(p);
      p.stdout.on('data', (d: Buffer) => { outs[id - 1] += d.toString(); });
      p.stderr.on('data', (d: Buffer) => { outs[id - 1] += d.toString(); });
      exits.push(new Promise((res) => p.once('exit', (code, sig) => res(code ?? sig ?? -1))));
    }
    for (const id of [1, 2, 3]) {
      await until(`replica ${id}'s line`, 60_000, () => {
        if (procs[id - 1]?.exitCode !== null) throw new Error(`replica ${id} exited early: ${outs[id - 1]}`);
        return /^replica \d: committed at \d+ -> world$/m.test(outs[id - 1] as string) ? true : undefined;
      });
      assert.match(outs[id - 1] as string, new RegExp(`^replica ${id}: committed at \\d+ -> world\\n$`));
    }
    // Each keeps serving until stopped, then closes and exits 0.
    for (const p of procs) p.kill('SIGTERM');
    const codes = await Promise.race([Promise.all(exits), new Promise<string>((r) => setTimeout(() => r('timeout'), 15_000))]);
    assert.deepEqual(codes, [0, 0, 0], outs.join('\n'));
  } finally {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    rmSync(tmp, { recursive: true, force: true });
  }
});

/** Rewrites the README's ports and paths to the test's. */
function rewrite(s: string, http: number, raft: number, exportDir: string): string {
  return s
    .replace(/localhost:808(\d)/g, (_, d: string) => `127.0.0.1:${http + Number(d)}`)
    .replace(/127\.0\.0\.1:2600(\d)/g, (_, d: string) => `127.0.0.1:${raft + Number(d) - 1}`)
    .replaceAll('/backups', exportDir);
}

test('README: the curl tour, run line by line against `sampan demo`, answers what its comments show', { timeout: 90_000 }, async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'sampan-readme-curl-'));
  const exportDir = join(tmp, 'backups');
  mkdirSync(exportDir);
  try {
    // HTTP ports http..http+2; Raft ports raft..raft+2, and raft+3 for the replica the tour adds.
    const http = await freeRange(7);
    const raft = http + 3;
    const demo = run(['demo', '--data-dir', join(tmp, 'demo'), '--http-port', String(http), '--raft-port', String(raft)]);
    await until('the demo to start', 30_000, () => {
      if (demo.proc.exitCode !== null) throw new Error(`demo exited: ${demo.err}`);
      return demo.out.includes('Ctrl-C stops') ? true : undefined;
    });
    const lines = codeLines(only('curl-tour'));
    assert.ok(lines.length >= 10, 'the tour has its lines');
    for (const line of lines) {
      const { cmd, comment } = splitComment(rewrite(line, http, raft, exportDir));
      const exp = expectation(comment);
      const words = shellWords(cmd);
      assert.equal(words[0], 'curl');
      const isGet = !words.includes('-X') && !words.includes('-d') && !words.includes('--data-binary');
      const once = async (): Promise<{ status: number; body: string }> => {
        const { stdout } = await execFileP('curl', ['-sS', '--max-time', '10', '-w', '\n%{http_code}', ...words.slice(1)]);
        const cut = stdout.lastIndexOf('\n');
        return { status: Number(stdout.slice(cut + 1)), body: stdout.slice(0, cut).trim() };
      };
      const ok = (r: { status: number; body: string }): boolean =>
        exp.kind === 'status' ? r.status === exp.status
          : r.status >= 200 && r.status < 300 && (exp.kind === 'none' || exp.pattern.test(r.body));
      // Only reads are repeated (a stale read may lag); a write runs once.
      let r = await once();
      for (let i = 0; isGet && !ok(r) && i < 50; i++) {
        await new Promise((res) => setTimeout(res, 100));
        r = await once();
      }
      assert.ok(ok(r), `${line}\n  got ${r.status} ${r.body.slice(0, 300)}`);
    }
    demo.proc.kill('SIGTERM');
    assert.equal(await demo.exited, 0, demo.err);
  } finally {
    await killAll();
    rmSync(tmp, { recursive: true, force: true });
  }
});

/** The flags of `sampan <sub> --help`. */
function flagsOf(sub: readonly string[]): Set<string> {
  const h = spawnSync(process.execPath, [BIN, ...sub, '--help'], { encoding: 'utf8' });
  assert.equal(h.status, 0, h.stderr);
  return new Set(h.stdout.match(/--[a-z][a-z-]*/g) ?? []);
}

test('README: the command tours use only subcommands and flags that exist, and their curl lines are the tour\'s', () => {
  const tourCurls = new Set(codeLines(only('curl-tour')).map((l) => splitComment(l).cmd));
  const blocks = readmeBlocks().filter((b) => useOf(b) === 'command-tour');
  assert.ok(blocks.length >= 2);
  const anyFlags = new Set([...flagsOf(['kv']), ...flagsOf(['demo']), ...flagsOf(['snapshot', 'import'])]);
  for (const b of blocks) {
    for (const line of codeLines(b)) {
      const { cmd } = splitComment(line);
      if (cmd.startsWith('curl ')) {
        assert.ok(tourCurls.has(cmd), `${cmd}: the curl tour runs it`);
        continue;
      }
      if (cmd === 'npm start') continue;                 // test/package/npm-start.test.ts
      const words = shellWords(cmd);
      assert.equal(words[0], 'sampan', `README.md:${b.line}: a command line no test checks: ${cmd}`);
      const sub = words[1] === 'snapshot' ? ['snapshot', words[2] as string] : [words[1] as string];
      const flags = flagsOf(sub);
      for (const w of words) if (w.startsWith('--')) assert.ok(flags.has(w), `sampan ${sub.join(' ')} has ${w}`);
    }
    // Flags named in the comments are some subcommand's.
    const comments = b.text.split('\n').map((l) => (l.trim().startsWith('#') ? l : splitComment(l).comment)).join(' ');
    for (const f of comments.match(/--[a-z][a-z-]*/g) ?? []) {
      assert.ok(anyFlags.has(f), `a sampan subcommand has ${f}`);
    }
  }
});

test('README Install: require(\'sampan\') from CommonJS fails with ERR_PACKAGE_PATH_NOT_EXPORTED, import() works', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'sampan-readme-cjs-'));
  try {
    mkdirSync(join(tmp, 'node_modules'));
    symlinkSync(ROOT, join(tmp, 'node_modules', 'sampan'));
    writeFileSync(join(tmp, 'main.cjs'), `
      try { require('sampan'); console.log('required'); } catch (e) { console.log(e.code); }
      import('sampan').then((m) => console.log(typeof m.NodeHost));`);
    const r = spawnSync(process.execPath, ['main.cjs'], { cwd: tmp, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'ERR_PACKAGE_PATH_NOT_EXPORTED\nfunction\n');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
