/**
 * Entry point of the `sampan` command. The KV service, the demo and the snapshot tools arrive
 * with their issues; until then every subcommand says so plainly.
 */

const USAGE = `usage: sampan <command>

commands:
  demo        three replicas of the KV service in one process (not yet built)
  kv          one replica of the KV service (not yet built)
  snapshot    snapshot import and export tools (not yet built)
`;

/** Runs the command with `argv` (without node and script) and returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const cmd = argv[0];
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (cmd === 'demo' || cmd === 'kv' || cmd === 'snapshot') {
    process.stderr.write(`sampan ${cmd}: not yet — the KV service has not landed; today sampan ships the Raft core (see README)\n`);
    return 2;
  }
  process.stderr.write(`sampan: unknown command '${cmd}' (try sampan --help)\n`);
  return 2;
}
