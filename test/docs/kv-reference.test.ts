/**
 * Keeps docs/kv-service.md true where that is cheap to check:
 * - every flag that each `sampan` command's `--help` prints has a row of its own (a table
 *   row starting with the flag in backticks) in that command's section of the doc (the
 *   section whose heading names `sampan <command>`), and every command without subcommands
 *   has such a section;
 * - every route of the HTTP server's route table is named as `METHOD path`;
 * - every error status and code the HTTP layer can answer is named on one line together.
 * Commands are discovered from `--help` itself, so a new subcommand or flag fails the test
 * until it is documented; each failure names exactly what is missing.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { routeList } from '../../src/kv/http-server.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'sampan.js');
const DOC_PATH = 'docs/kv-service.md';

function doc(): string {
  return readFileSync(join(ROOT, DOC_PATH), 'utf8');
}

/** A command as `--help` describes it. */
interface HelpedCommand {
  /** The words after `sampan` (empty for `sampan` itself). */
  readonly path: readonly string[];
  /** Its own flags, without commander's `--help`. */
  readonly flags: readonly string[];
  readonly subcommands: readonly string[];
}

/** The lines of `section` (e.g. `Options:`) in a commander help text. */
function helpSection(text: string, section: string): string[] {
  const lines = text.split('\n');
  const start = lines.indexOf(section);
  if (start < 0) return [];
  const out: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.trim() === '' || /^\S/.test(line)) break;
    out.push(line);
  }
  return out;
}

/** Runs `sampan <path> --help` and parses its options and commands (two-space indented entries). */
function helpOf(path: readonly string[]): HelpedCommand {
  const text = execFileSync(process.execPath, [BIN, ...path, '--help'], { encoding: 'utf8' });
  const flags = helpSection(text, 'Options:')
    .map((l) => /^ {2}(?:-[A-Za-z], )?(--[a-z][a-z0-9-]*)/.exec(l)?.[1])
    .filter((f): f is string => f !== undefined && f !== '--help');
  const subcommands = helpSection(text, 'Commands:')
    .map((l) => /^ {2}([a-z][a-z0-9-]*)/.exec(l)?.[1])
    .filter((c): c is string => c !== undefined && c !== 'help');
  return { path, flags, subcommands };
}

/** Every command of the tree, `sampan` first. */
function allCommands(): HelpedCommand[] {
  const out: HelpedCommand[] = [];
  const visit = (path: readonly string[]): void => {
    const c = helpOf(path);
    out.push(c);
    for (const sub of c.subcommands) visit([...path, sub]);
  };
  visit([]);
  return out;
}

/**
 * The section of `text` under the heading that names `` `sampan <path>` ``, up to the next
 * heading of the same or a higher level; null when there is no such heading.
 */
function sectionOf(text: string, path: readonly string[]): string | null {
  const name = `\`${['sampan', ...path].join(' ')}\``;
  const lines = text.split('\n');
  const start = lines.findIndex((l) => /^#+ /.test(l) && l.includes(name));
  if (start < 0) return null;
  const level = /^#+/.exec(lines[start] as string)?.[0].length ?? 1;
  let end = lines.length;
  for (let i = start + 1; i < lines.length; i++) {
    const h = /^(#+) /.exec(lines[i] as string);
    if (h !== null && (h[1] as string).length <= level) {
      end = i;
      break;
    }
  }
  return lines.slice(start, end).join('\n');
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

test('every flag of every sampan command is documented in its section of docs/kv-service.md', () => {
  const text = doc();
  const commands = allCommands();
  assert.ok(commands.some((c) => c.path.join(' ') === 'kv' && c.flags.includes('--raft-address')), 'help parsing found `sampan kv --raft-address`');
  const missing: string[] = [];
  for (const c of commands) {
    const name = ['sampan', ...c.path].join(' ');
    if (c.flags.length === 0 && c.subcommands.length > 0) continue;
    const section = sectionOf(text, c.path);
    if (section === null) {
      missing.push(`no section for \`${name}\`: add a heading that names \`${name}\` in backticks`
        + (c.flags.length > 0 ? ` and document ${c.flags.join(', ')} in it` : ''));
      continue;
    }
    for (const flag of c.flags) {
      if (!new RegExp(`^\\| \`${escape(flag)}(?![a-z0-9-])`, 'm').test(section)) {
        missing.push(`flag ${flag} of \`${name}\` (printed by \`${name} --help\`) has no row \`| \`${flag} …\` | … |\` `
          + `in a flags table of the section headed \`${name}\``);
      }
    }
  }
  assert.deepEqual(missing, [], `${DOC_PATH} is out of date:\n  ${missing.join('\n  ')}`);
});

test('every route of the HTTP server is documented in docs/kv-service.md', () => {
  const text = doc();
  const routes = routeList();
  assert.ok(routes.includes('PUT /kv/{key}') && routes.includes('GET /status'), `route table as listed: ${routes.join(', ')}`);
  const missing = routes.filter((r) => !new RegExp(`${escape(r)}(?![\\w/{-])`).test(text))
    .map((r) => `route \`${r}\` (src/kv/http-server.ts) is not named as \`${r}\``);
  assert.deepEqual(missing, [], `${DOC_PATH} is out of date:\n  ${missing.join('\n  ')}`);
});

/** Every (status, code) the HTTP layer answers with, read from src/kv; and codes it renames. */
function answeredErrors(): { pairs: Array<{ status: string; code: string; from: string }>; renamed: string[] } {
  const dir = join(ROOT, 'src', 'kv');
  const pairs: Array<{ status: string; code: string; from: string }> = [];
  const renamed: string[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    const src = readFileSync(join(dir, file), 'utf8');
    for (const m of src.matchAll(/new HttpError\((\d{3}), '([A-Z_]+)'|status: (\d{3}), code: '([A-Z_]+)'/g)) {
      pairs.push({ status: (m[1] ?? m[3]) as string, code: (m[2] ?? m[4]) as string, from: `src/kv/${file}` });
    }
    const table = /STATUS_OF_CODE[^{]*\{([^}]*)\}/.exec(src);
    if (table !== null) {
      for (const m of (table[1] as string).matchAll(/^\s*([A-Z_]+): (\d{3}),?$/gm)) {
        pairs.push({ status: m[2] as string, code: m[1] as string, from: `src/kv/${file} (STATUS_OF_CODE)` });
      }
    }
    for (const m of src.matchAll(/e\.code === '([A-Z_]+)' \? '([A-Z_]+)'/g)) renamed.push(m[1] as string);
  }
  return { pairs, renamed };
}

test('every error status and code the HTTP layer answers is documented in docs/kv-service.md', () => {
  const text = doc();
  const lines = text.split('\n');
  const { pairs, renamed } = answeredErrors();
  assert.ok(pairs.some((p) => p.code === 'KEY_NOT_FOUND') && pairs.some((p) => p.code === 'TIMEOUT'), 'error parsing found KEY_NOT_FOUND and TIMEOUT');
  const missing: string[] = [];
  const seen = new Set<string>();
  for (const { status, code, from } of pairs) {
    const key = `${status} ${code}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const named = `\`${code}\``;
    if (renamed.includes(code)) {
      if (!text.includes(named)) missing.push(`error code ${named} (answered as another code, ${from}) is not mentioned`);
      continue;
    }
    if (!lines.some((l) => new RegExp(`(?<!\\d)${status}(?!\\d)`).test(l) && l.includes(named))) {
      missing.push(`error ${status} ${named} (${from}) is not on one line of the errors table`);
    }
  }
  assert.deepEqual(missing, [], `${DOC_PATH} is out of date:\n  ${missing.join('\n  ')}`);
});
