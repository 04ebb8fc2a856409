/**
 * `sampan demo`: three replicas of one KV shard in one process, each with its own NodeHost,
 * data dir, raft port and HTTP port, on 127.0.0.1. Initial members are always passed: a host
 * that already has data ignores them and resumes, so a restart with the same --data-dir keeps
 * everything.
 */
import { resolve, join } from 'node:path';
import { Command } from 'commander';
import { consoleLogger } from '../index.js';
import { KvReplica, StartError } from '../kv/kv-replica.js';
import { intAtLeast, oneOf } from './args.js';
import { CliError } from './cli-error.js';
import { runUntilSignal } from './run-until-signal.js';

interface DemoFlags {
  dataDir: string;
  httpPort: number;
  raftPort: number;
  rttMs: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
}

const HOST = '127.0.0.1';
const IDS = [1, 2, 3] as const;

async function waitForLeader(r: KvReplica, ms: number): Promise<number> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const l = r.host.getLeaderId(1);
    if (l.valid) return l.leaderId;
    await new Promise((res) => setTimeout(res, 50));
  }
  return 0;
}

async function run(f: DemoFlags): Promise<number> {
  if (f.httpPort + 2 > 65535 || f.raftPort + 2 > 65535) throw new CliError('ports must leave room for three replicas (port + 2 <= 65535)', 2);
  const dataDir = resolve(f.dataDir);
  const members = new Map<number, string>(IDS.map((i) => [i, `${HOST}:${f.raftPort + i - 1}`] as const));
  const peerHttp = new Map<number, string>(IDS.map((i) => [i, `${HOST}:${f.httpPort + i - 1}`] as const));
  const logger = consoleLogger(f.logLevel);
  const replicas: KvReplica[] = [];
  const closeAll = async (): Promise<void> => {
    await Promise.all(replicas.map((r) => r.close()));
  };
  try {
    for (const i of IDS) {
      replicas.push(await KvReplica.start({
        replicaId: i, raftAddress: members.get(i) as string, httpHost: HOST, httpPort: f.httpPort + i - 1,
        dataDir: join(dataDir, `replica-${i}`), initialMembers: members, join: false, shards: 1,
        stateMachine: 'memory', snapshotEntries: 10000, rttMs: f.rttMs, logger, peerHttp,
      }));
    }
  } catch (e) {
    await closeAll().catch(() => {});
    if (e instanceof StartError) throw new CliError(e.message);
    throw e;
  }
  const out = (line: string): void => { process.stdout.write(`${line}\n`); };
  const first = replicas[0] as KvReplica;
  const second = replicas[1] as KvReplica;
  out(`sampan demo: three replicas of one KV shard, data in ${dataDir}`);
  for (const [n, r] of replicas.entries()) out(`  replica ${n + 1}: ${r.url}  (raft ${members.get(n + 1) as string})`);
  const leader = await waitForLeader(first, 15000);
  out(leader === 0 ? 'no leader yet; requests answer 503 until one is elected' : `leader: replica ${leader}`);
  out(`dashboard: ${first.url}/`);
  out('try:');
  out(`  curl -X PUT --data-binary 'world' ${first.url}/kv/hello`);
  out(`  curl ${second.url}/kv/hello`);
  out('Ctrl-C stops (data is kept for the next run).');
  return await runUntilSignal({
    close: closeAll,
    onFailure: (fn) => { for (const r of replicas) r.host.on('host:failed', ({ error }) => fn(error)); },
  }, (line) => out(`sampan demo: ${line}`));
}

/** The `demo` subcommand; its action reports its exit code through `exit`. */
export function demoCommand(exit: (code: number) => void): Command {
  return new Command('demo')
    .description('three replicas of one KV shard in this process (HTTP ports PORT..PORT+2); Ctrl-C stops')
    .option('--data-dir <dir>', 'where the replicas keep their data (kept across runs)', './sampan-demo-data')
    .option('--http-port <port>', 'HTTP port of replica 1; replicas 2 and 3 take the next two', intAtLeast(1), 8080)
    .option('--raft-port <port>', 'raft port of replica 1; replicas 2 and 3 take the next two', intAtLeast(1), 26001)
    .option('--rtt-ms <n>', 'milliseconds per Raft tick', intAtLeast(1), 50)
    .option('--log-level <level>', 'debug, info, warn or error (to stderr)', oneOf(['debug', 'info', 'warn', 'error'] as const), 'error')
    .action(async (flags: DemoFlags) => { exit(await run(flags)); });
}
