/**
 * Golden scripts in the style of etcd raft's datadriven `testdata/*.txt`: a command line, a
 * `----` separator, the output recorded for it, then a blank line. Lines starting with `#`
 * (and blank lines) between blocks are comments and are kept verbatim when the file is
 * regenerated, so a script reads as a narrated scenario and a regeneration is reviewed as a
 * plain diff of outputs.
 *
 * Recorded output never contains a blank line (an empty output is recorded as `ok`).
 */

/** One command and what was recorded for it. */
export interface ScriptBlock {
  /** Comment and blank lines before the command, verbatim. */
  readonly preamble: readonly string[];
  readonly command: string;
  /** 1-based line number of the command in the file. */
  readonly line: number;
  readonly expected: readonly string[];
}

/** A parsed script: its blocks and whatever trails the last block. */
export interface Script {
  readonly blocks: readonly ScriptBlock[];
  readonly trailer: readonly string[];
}

/** Output recorded for a command that printed nothing. */
export const EMPTY_OUTPUT = 'ok';

/**
 * Parses a script.
 * @throws Error naming the file and line when a command is not followed by `----`.
 */
export function parseScript(text: string, file: string): Script {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const blocks: ScriptBlock[] = [];
  let preamble: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] as string;
    if (line.trim() === '' || line.startsWith('#')) {
      preamble.push(line);
      i++;
      continue;
    }
    if (lines[i + 1] !== '----') throw new Error(`${file}:${i + 1}: command "${line}" is not followed by "----"`);
    const expected: string[] = [];
    let j = i + 2;
    while (j < lines.length && (lines[j] as string) !== '') expected.push(lines[j++] as string);
    blocks.push({ preamble, command: line, line: i + 1, expected });
    preamble = [];
    i = j + 1;
  }
  return { blocks, trailer: preamble };
}

/** The script text with each block's output replaced by `outputs[i]`. */
export function renderScript(script: Script, outputs: readonly (readonly string[])[]): string {
  const out: string[] = [];
  script.blocks.forEach((b, i) => {
    out.push(...b.preamble, b.command, '----', ...normalizeOutput(outputs[i] ?? []), '');
  });
  while (out.length > 0 && out[out.length - 1] === '') out.pop();
  out.push(...trimTrailingBlank(script.trailer));
  return `${out.join('\n')}\n`;
}

function trimTrailingBlank(lines: readonly string[]): string[] {
  const l = [...lines];
  while (l.length > 0 && (l[l.length - 1] as string).trim() === '') l.pop();
  return l.length > 0 ? ['', ...l] : l;
}

/** Output as recorded: no blank lines, `ok` when empty. */
export function normalizeOutput(lines: readonly string[]): string[] {
  const l = lines.filter((s) => s.trim() !== '').map((s) => s.replace(/\s+$/, ''));
  return l.length === 0 ? [EMPTY_OUTPUT] : l;
}

/**
 * A line diff (longest common subsequence) in unified style: ` ` kept, `-` expected only,
 * `+` actual only.
 */
export function lineDiff(expected: readonly string[], actual: readonly string[]): string[] {
  const n = expected.length;
  const m = actual.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let a = n - 1; a >= 0; a--) {
    for (let b = m - 1; b >= 0; b--) {
      const row = lcs[a] as number[];
      row[b] = expected[a] === actual[b]
        ? ((lcs[a + 1] as number[])[b + 1] as number) + 1
        : Math.max((lcs[a + 1] as number[])[b] as number, row[b + 1] as number);
    }
  }
  const out: string[] = [];
  let a = 0;
  let b = 0;
  while (a < n || b < m) {
    if (a < n && b < m && expected[a] === actual[b]) {
      out.push(`  ${expected[a]}`);
      a++;
      b++;
    } else if (b < m && (a >= n || ((lcs[a] as number[])[b + 1] as number) >= ((lcs[a + 1] as number[])[b] as number))) {
      out.push(`+ ${actual[b]}`);
      b++;
    } else {
      out.push(`- ${expected[a]}`);
      a++;
    }
  }
  return out;
}
