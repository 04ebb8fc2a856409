/**
 * `sampan kv`: one replica of the KV service as its own process, until SIGINT/SIGTERM.
 */
import { existsSync } from 'node:fs';
import { Command } from 'commander';
import { consoleLogger } from '../index.js';
import { KvReplica, StartError } from '../kv/kv-replica.js';
import { loadSqlite } from '../kv/sqlite-module.js';
import { address, intAtLeast, ipAddress, members, oneOf, splitAddress } from './args.js';
import { CliError } from './cli-error.js';
import { runUntilSignal } from './run-until-signal.js';

/** Parsed flags of `sampan kv`. */
interface KvFlags {
  replicaId: number;
  raftAddress: string;
  httpAddress: string;
  dataDir: string;
  listenAddress?: string;
  dialFromHost?: string;
  initialMembers?: Map<number, string>;
  join?: boolean;
  shards: number;
  snapshotEntries: number;
  compactionOverhead?: number;
  rttMs?: number;
  stateMachine: 'memory' | 'disk';
  deploymentId?: number;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  maxInFlight?: number;
  peerHttp?: Map<number, string>;
}

const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

function tlsOf(f: KvFlags): { caFile: string; certFile: string; keyFile: string } | undefined {
  const given = [f.tlsCa, f.tlsCert, f.tlsKey].filter((x) => x !== undefined);
  if (given.length === 0) return undefined;
  if (given.length !== 3) throw new CliError('--tls-ca, --tls-cert and --tls-key go together: give all three or none', 2);
  for (const [flag, file] of [['--tls-ca', f.tlsCa], ['--tls-cert', f.tlsCert], ['--tls-key', f.tlsKey]] as const) {
    if (!existsSync(file as string)) throw new CliError(`${flag} ${file as string}: no such file`, 2);
  }
  return { caFile: f.tlsCa as string, certFile: f.tlsCert as string, keyFile: f.tlsKey as string };
}

async function run(f: KvFlags): Promise<number> {
  if (f.join === true && f.initialMembers !== undefined) throw new CliError('--join and --initial-members exclude each other', 2);
  const tls = tlsOf(f);
  // Before anything starts: a missing optional better-sqlite3 is one line saying what to install.
  if (f.stateMachine === 'disk') await loadSqlite();
  const http = splitAddress(f.httpAddress);
  const logger = consoleLogger(f.logLevel);
  let replica: KvReplica;
  try {
    replica = await KvReplica.start({
      replicaId: f.replicaId, raftAddress: f.raftAddress, listenAddress: f.listenAddress, dialFromHost: f.dialFromHost,
      httpHost: http.host, httpPort: http.port, dataDir: f.dataDir,
      initialMembers: f.initialMembers ?? new Map(), join: f.join === true, shards: f.shards,
      stateMachine: f.stateMachine, snapshotEntries: f.snapshotEntries, compactionOverhead: f.compactionOverhead,
      rttMs: f.rttMs, deploymentId: f.deploymentId, tls, logger,
      limits: f.maxInFlight === undefined ? undefined : { maxInFlight: f.maxInFlight },
      peerHttp: f.peerHttp,
    });
  } catch (e) {
    if (e instanceof StartError) throw new CliError(e.message);
    throw e;
  }
  const say = (line: string): void => { process.stdout.write(`sampan kv: ${line}\n`); };
  say(`replica ${f.replicaId} ready: http ${replica.url}, raft ${f.raftAddress}, shards 1..${f.shards}, ${f.stateMachine} state machine, data ${f.dataDir}`);
  say(`dashboard: ${replica.url}/`);
  return await runUntilSignal({
    close: () => replica.close(),
    onFailure: (fn) => { replica.host.on('host:failed', ({ error }) => fn(error)); },
  }, say);
}

/** The `kv` subcommand; its action reports its exit code through `exit`. */
export function kvCommand(exit: (code: number) => void): Command {
  return new Command('kv')
    .description('run one replica of the KV service (HTTP API + Raft) until SIGINT/SIGTERM')
    .requiredOption('--replica-id <n>', 'this replica\'s id in every shard (required)', intAtLeast(1))
    .requiredOption('--raft-address <host:port>', 'the address other replicas reach this one at (required)', address)
    .requiredOption('--http-address <host:port>', 'where the HTTP API listens (required)', address)
    .requiredOption('--data-dir <dir>', 'this replica\'s data: log, snapshots, state (required)')
    .option('--listen-address <host:port>', 'bind address when it differs from --raft-address', address)
    .option('--dial-from-host <ip>', 'local IP address to connect to other replicas from, e.g. for a proxy that tells replicas apart (default: any)', ipAddress)
    .option('--initial-members <list>', 'members of a new shard: 1=HOST:PORT,2=HOST:PORT,… (omit to resume from --data-dir)', members)
    .option('--join', 'join an existing shard (add it first with POST /admin/members)')
    .option('--shards <n>', 'shards 1..N; keys map to shards by FNV-1a hash', intAtLeast(1), 1)
    .option('--snapshot-entries <n>', 'take a snapshot every N applied entries (0: never)', intAtLeast(0), 10000)
    .option('--compaction-overhead <n>', 'entries kept in the log below a snapshot (default: 5000)', intAtLeast(0))
    .option('--rtt-ms <n>', 'milliseconds per Raft tick, about the round trip between replicas (default: 100)', intAtLeast(1))
    .option('--state-machine <kind>', 'memory or disk (SQLite; needs the optional package better-sqlite3)', oneOf(['memory', 'disk'] as const), 'memory')
    .option('--deployment-id <n>', 'replicas of different deployments refuse each other', intAtLeast(0))
    .option('--tls-ca <file>', 'mutual TLS: CA certificate')
    .option('--tls-cert <file>', 'mutual TLS: this replica\'s certificate')
    .option('--tls-key <file>', 'mutual TLS: this replica\'s key')
    .option('--peer-http <list>', 'other replicas\' HTTP addresses for GET /cluster and the dashboard at /: 1=HOST:PORT,2=HOST:PORT,…', members)
    .option('--max-in-flight <n>', 'HTTP requests served at once before 429 (default: 1024)', intAtLeast(1))
    .option('--log-level <level>', 'debug, info, warn or error (to stderr)', oneOf(LOG_LEVELS), 'warn')
    .action(async (flags: KvFlags) => { exit(await run(flags)); });
}
