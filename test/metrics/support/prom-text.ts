/**
 * Test support: a strict reader of the Prometheus text exposition format (0.0.4), enough to
 * check that what sampan serves parses, and to read sample values back.
 */

/** One sample line. */
export interface PromSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** A parsed exposition. */
export interface PromText {
  /** Family name → type. */
  readonly types: ReadonlyMap<string, string>;
  readonly samples: readonly PromSample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)(?: -?\\d+)?$`);
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/y;

function parseLabels(s: string, line: string): Record<string, string> {
  const out: Record<string, string> = {};
  LABEL.lastIndex = 0;
  while (LABEL.lastIndex < s.length) {
    const m = LABEL.exec(s);
    if (m === null) throw new Error(`bad labels in: ${line}`);
    out[m[1] as string] = (m[2] as string).replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
  }
  return out;
}

function parseValue(v: string, line: string): number {
  if (v === '+Inf') return Infinity;
  if (v === '-Inf') return -Infinity;
  if (v === 'NaN') return NaN;
  const n = Number(v);
  if (v === '' || Number.isNaN(n)) throw new Error(`bad value in: ${line}`);
  return n;
}

/** The family a sample belongs to (histogram and summary series carry suffixes). */
function familyOf(name: string, types: ReadonlyMap<string, string>): string | undefined {
  if (types.has(name)) return name;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (name.endsWith(suffix)) {
      const base = name.slice(0, -suffix.length);
      if (types.has(base)) return base;
    }
  }
  return undefined;
}

/**
 * Parses `text`.
 * @throws Error naming the first line that is not valid exposition text, a sample without a
 *   TYPE, or a family typed twice.
 */
export function parsePromText(text: string): PromText {
  const types = new Map<string, string>();
  const samples: PromSample[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('# HELP ')) {
      if (!new RegExp(`^# HELP ${NAME} `).test(line)) throw new Error(`bad HELP: ${line}`);
      continue;
    }
    if (line.startsWith('# TYPE ')) {
      const m = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`).exec(line);
      if (m === null) throw new Error(`bad TYPE: ${line}`);
      if (types.has(m[1] as string)) throw new Error(`family typed twice: ${line}`);
      types.set(m[1] as string, m[2] as string);
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = SAMPLE.exec(line);
    if (m === null) throw new Error(`bad sample: ${line}`);
    const name = m[1] as string;
    if (familyOf(name, types) === undefined) throw new Error(`sample without a TYPE: ${line}`);
    samples.push({ name, labels: m[2] === undefined ? {} : parseLabels(m[2], line), value: parseValue(m[3] as string, line) });
  }
  return { types, samples };
}

/** The value of the one sample of `name` whose labels include `labels`. @throws Error when none or several match. */
export function valueOf(p: PromText, name: string, labels: Readonly<Record<string, string>> = {}): number {
  const found = p.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length !== 1) throw new Error(`${found.length} samples of ${name} ${JSON.stringify(labels)}`);
  return (found[0] as PromSample).value;
}
