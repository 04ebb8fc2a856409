/**
 * `sampan snapshot import`: rebuilds a stopped replica's data from an exported snapshot (the
 * repair for a shard that lost its quorum for good). Every member imports the same snapshot
 * with the same --members, then starts with `sampan kv` and no --initial-members. A data dir
 * that already holds a newer index than the snapshot is refused (exit code 2, nothing changed)
 * unless --force is given. Replica ids left out of --members are removed for good.
 */
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { ImportRollbackError, importSnapshot } from '../index.js';
import { readIdentity } from '../kv/replica-identity.js';
import { intAtLeast, members } from './args.js';
import { CliError, oneLine } from './cli-error.js';

interface ImportFlags {
  dataDir: string;
  from: string;
  replicaId: number;
  members: Map<number, string>;
  shardId?: number;
  force?: boolean;
}

/** Exit code of a refusal that `--force` would override (nothing was changed). */
const REFUSED = 2;

/**
 * An on-disk KV state machine ahead of the imported snapshot would skip its recovery: its
 * database is removed so the replica recovers from the imported image.
 */
function removeDiskState(dataDir: string, shardId: number, replicaId: number): void {
  const dir = join(dataDir, 'kv');
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  const base = `shard-${shardId}-replica-${replicaId}.sqlite`;
  for (const n of names) if (n === base || n.startsWith(`${base}-`)) rmSync(join(dir, n), { force: true });
}

async function runImport(f: ImportFlags): Promise<number> {
  const id = readIdentity(f.dataDir);
  if (id !== null && id.replicaId !== f.replicaId) {
    throw new CliError(`data dir ${f.dataDir} belongs to replica ${id.replicaId}, not ${f.replicaId}`);
  }
  let meta;
  try {
    meta = await importSnapshot({
      nodeHostDir: f.dataDir, from: f.from, replicaId: f.replicaId, members: f.members, shardId: f.shardId, force: f.force === true,
    });
  } catch (e) {
    if (e instanceof ImportRollbackError) {
      throw new CliError(`refused: ${f.dataDir} holds shard ${e.shardId} replica ${e.replicaId} at index ${e.held}, newer than the `
        + `snapshot's ${e.index}; importing would lose the entries after ${e.index} (nothing changed; --force imports anyway)`, REFUSED);
    }
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CliError(`--from ${f.from}: not an exported snapshot directory (${oneLine(e)})`);
    throw new CliError(oneLine(e));
  }
  removeDiskState(f.dataDir, meta.shardId, f.replicaId);
  process.stdout.write(`sampan snapshot import: shard ${meta.shardId} replica ${f.replicaId} now starts from index ${meta.index} `
    + `with members ${[...f.members].map(([i, a]) => `${i}=${a}`).join(',')}\n`);
  return 0;
}

/** The `snapshot` command group (`import`); actions report their exit code through `exit`. */
export function snapshotCommand(exit: (code: number) => void): Command {
  const cmd = new Command('snapshot').description('snapshot tools (export with POST /admin/snapshot?export=DIR)');
  cmd.command('import')
    .description('rebuild a stopped replica\'s data from an exported snapshot (quorum-loss repair)')
    .requiredOption('--data-dir <dir>', 'the stopped replica\'s data dir (required)')
    .requiredOption('--from <dir>', 'the exported snapshot directory, EXPORT_DIR/shard-S-replica-R-snapshot-… (required)')
    .requiredOption('--replica-id <n>', 'the replica being rebuilt (required)', intAtLeast(1))
    .requiredOption('--members <list>', 'the shard\'s new voters: 1=HOST:PORT,2=HOST:PORT,… (required; ids left out can never rejoin)', members)
    .option('--shard-id <n>', 'refuse a snapshot of another shard', intAtLeast(1))
    .option('--force', 'import even if the data dir holds a newer index (rolls the replica back)')
    .action(async (flags: ImportFlags) => { exit(await runImport(flags)); });
  return cmd;
}
