/**
 * Test support for the README tests: its fenced code blocks, the shell words of a command
 * line, the answer a curl line's comment promises, and consecutive free loopback ports.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { canBind } from '../../kv/support/procs.js';

/** The repository root (tests run from dist/test/readme/support). */
export const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/** One fenced code block of a markdown file. */
export interface Block {
  /** The info string's first word (`ts`, `sh`, `json`, …; '' when none). */
  readonly lang: string;
  /** The text between the fences, without them. */
  readonly text: string;
  /** The 1-based line of the opening fence. */
  readonly line: number;
}

/** Every fenced block (``` fences) of `markdown`, in order. */
export function fencedBlocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const out: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)/.exec(lines[i] as string);
    if (open === null) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i] as string); i++) body.push(lines[i] as string);
    out.push({ lang: open[1] ?? '', text: body.join('\n'), line: start + 1 });
  }
  return out;
}

/** The README's fenced blocks. */
export function readmeBlocks(): Block[] {
  return fencedBlocks(readFileSync(join(ROOT, 'README.md'), 'utf8'));
}

/** Splits a POSIX shell command line into words (plain, '…' and "…" quoting; no expansions). */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (c === "'" || c === '"') {
      const end = line.indexOf(c, i + 1);
      if (end < 0) throw new Error(`unterminated ${c} in: ${line}`);
      cur += line.slice(i + 1, end);
      inWord = true;
      i = end;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (inWord) words.push(cur);
  return words;
}

/** A command line and its trailing `# comment` ('' when none). */
export function splitComment(line: string): { cmd: string; comment: string } {
  const m = /^(.*?)\s+#\s(.*)$/.exec(line);
  return m === null ? { cmd: line.trim(), comment: '' } : { cmd: (m[1] as string).trim(), comment: (m[2] as string).trim() };
}

/** What a curl line's comment promises: an HTTP status, a body pattern, or nothing checkable. */
export type Expectation =
  | { readonly kind: 'status'; readonly status: number }
  | { readonly kind: 'body'; readonly pattern: RegExp }
  | { readonly kind: 'none' };

/**
 * Reads the answer a comment shows. `202` is a status; `{"index":12}` a JSON shape in which
 * every number (and a bare `N`) stands for any number and `…` inside a string for any text;
 * one word (`world`, optionally followed by a parenthesised remark) is the exact body. Any
 * other comment describes the answer and promises only a 2xx status.
 */
export function expectation(comment: string): Expectation {
  const c = comment.replace(/\s+\(.*\)$/, '');
  if (/^\d{3}$/.test(c)) return { kind: 'status', status: Number(c) };
  if (c.startsWith('{')) return { kind: 'body', pattern: new RegExp(`^${jsonShape(c)}$`) };
  if (/^[A-Za-z0-9_-]+$/.test(c)) return { kind: 'body', pattern: new RegExp(`^${escape(c)}$`) };
  return { kind: 'none' };
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A regex source for a JSON shape: numbers and bare N outside strings match any number. */
function jsonShape(shape: string): string {
  let out = '';
  for (let i = 0; i < shape.length; i++) {
    const c = shape[i] as string;
    if (c === '"') {
      const end = shape.indexOf('"', i + 1);
      out += shape.slice(i, end + 1).split('…').map(escape).join('.*');
      i = end;
    } else if (/[0-9N]/.test(c)) {
      while (i + 1 < shape.length && /[0-9]/.test(shape[i + 1] as string)) i++;
      out += '\\d+';
    } else {
      out += escape(c);
    }
  }
  return out;
}

/** A base port B with B..B+span-1 all free on 127.0.0.1 a moment ago. */
export async function freeRange(span: number): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const base = 20000 + Math.floor(Math.random() * 40000);
    if (await canBind(Array.from({ length: span }, (_, k) => base + k))) return base;
  }
  throw new Error(`no ${span} consecutive free ports`);
}

/** The environment without what an enclosing `npm test` put there for its own scripts. */
export function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_')));
}
