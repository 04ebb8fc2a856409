/**
 * Entry point of the `sampan` command (see KV-SERVICE.md): `demo`, `kv`, `snapshot import`.
 * Every failure is one line on stderr and a non-zero exit code; never a stack trace.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { CliError, oneLine } from './cli-error.js';
import { tolerateClosedPipes } from './closed-pipes.js';
import { demoCommand } from './demo-command.js';
import { kvCommand } from './kv-command.js';
import { snapshotCommand } from './snapshot-command.js';

/** The package's version, from its package.json (dist/src/cli/ is three levels below it). */
function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string };
  return pkg.version ?? 'unknown';
}

function program(exit: (code: number) => void): Command {
  const p = new Command('sampan')
    .description('sampan: multi-group Raft for Node.js, and a replicated key-value service built on it')
    .version(version(), '-V, --version', 'print the version and exit')
    .addCommand(demoCommand(exit))
    .addCommand(kvCommand(exit))
    .addCommand(snapshotCommand(exit));
  const configure = (c: Command): void => {
    c.exitOverride().configureOutput({ outputError: (s, write) => write(`sampan${c.name() === 'sampan' ? '' : ` ${c.name()}`}: ${s}`) });
    // One default format in --help: `(default: X)`, strings unquoted like the hand-written ones.
    for (const o of c.options) {
      if (typeof o.defaultValue === 'string' && o.defaultValueDescription === undefined) o.defaultValueDescription = o.defaultValue;
    }
    for (const sub of c.commands) configure(sub);
  };
  configure(p);
  return p;
}

/** Runs the command with `argv` (without node and script) and returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  tolerateClosedPipes();
  let code = 0;
  const p = program((c) => { code = c; });
  if (argv.length === 0) {
    process.stdout.write(p.helpInformation());
    return 0;
  }
  try {
    await p.parseAsync([...argv], { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    const sub = argv[0] === undefined ? '' : ` ${argv[0]}`;
    process.stderr.write(`sampan${sub}: ${oneLine(e)}\n`);
    return e instanceof CliError ? e.exitCode : 1;
  }
  return code;
}
