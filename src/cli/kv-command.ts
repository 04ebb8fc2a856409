/**
 * `sampan kv`: one replica of the KV service as its own process, until SIGINT/SIGTERM.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import type { HttpSecurity } from '../kv/http-security.js';
import { Command } from 'commander';
import { consoleLogger } from '../index.js';
import { KvReplica, StartError } from '../kv/kv-replica.js';
import { loadSqlite } from '../kv/sqlite-module.js';
import { address, byteCount, clusterToken, intAtLeast, ipAddress, members, oneOf, priorities, splitAddress } from './args.js';
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
  readMode: 'read-index' | 'lease';
  entryCompression: 'none' | 'snappy';
  deploymentId?: number;
  clusterToken?: string;
  tlsCa?: string;
  httpTlsCert?: string;
  httpTlsKey?: string;
  httpTlsClientCa?: string;
  adminTokenFile?: string;
  exportRoot?: string;
  tlsCert?: string;
  tlsKey?: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  maxInFlight?: number;
  peerHttp?: Map<number, string>;
  priorities?: Map<number, number>;
  leaderBalancing: boolean;
  snapshotSendRate?: number;
  snapshotRecvRate?: number;
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

/**
 * The HTTP port's guards from the flags and SAMPAN_ADMIN_TOKEN (a token is never a flag value,
 * which `ps` would show). Reads the files now, so a bad path fails before anything starts.
 */
function httpSecurityOf(f: KvFlags, env: NodeJS.ProcessEnv): HttpSecurity {
  const read = (flag: string, file: string): string => {
    try {
      return readFileSync(file, 'utf8');
    } catch (e) {
      throw new CliError(`${flag} ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`, 2);
    }
  };
  if ((f.httpTlsCert === undefined) !== (f.httpTlsKey === undefined)) {
    throw new CliError('--http-tls-cert and --http-tls-key go together', 2);
  }
  if (f.httpTlsClientCa !== undefined && f.httpTlsCert === undefined) throw new CliError('--http-tls-client-ca needs --http-tls-cert and --http-tls-key', 2);
  const tls = f.httpTlsCert === undefined ? undefined : {
    cert: read('--http-tls-cert', f.httpTlsCert), key: read('--http-tls-key', f.httpTlsKey as string),
    ...(f.httpTlsClientCa === undefined ? {} : { clientCa: read('--http-tls-client-ca', f.httpTlsClientCa) }),
  };
  const fromEnv = env['SAMPAN_ADMIN_TOKEN'];
  if (f.adminTokenFile !== undefined && fromEnv !== undefined) throw new CliError('give the admin token in --admin-token-file or SAMPAN_ADMIN_TOKEN, not both', 2);
  const token = (f.adminTokenFile !== undefined ? read('--admin-token-file', f.adminTokenFile) : fromEnv)?.trim();
  if (token !== undefined && !/^[\x21-\x7e]{16,}$/.test(token)) {
    throw new CliError('the admin token must be at least 16 printable characters without spaces', 2);
  }
  if (f.exportRoot !== undefined) {
    let dir = false;
    try { dir = statSync(f.exportRoot).isDirectory(); } catch { /* reported below */ }
    if (!dir) throw new CliError(`--export-root ${f.exportRoot}: no such directory`, 2);
  }
  return { ...(tls === undefined ? {} : { tls }), ...(token === undefined ? {} : { adminToken: token }),
    ...(f.exportRoot === undefined ? {} : { exportRoot: f.exportRoot }) };
}

async function run(f: KvFlags): Promise<number> {
  if (f.join === true && f.initialMembers !== undefined) throw new CliError('--join and --initial-members exclude each other', 2);
  const tls = tlsOf(f);
  const httpSecurity = httpSecurityOf(f, process.env);
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
      stateMachine: f.stateMachine, readMode: f.readMode, entryCompression: f.entryCompression, snapshotEntries: f.snapshotEntries, compactionOverhead: f.compactionOverhead,
      rttMs: f.rttMs, deploymentId: f.deploymentId, clusterToken: f.clusterToken, tls, logger,
      limits: f.maxInFlight === undefined ? undefined : { maxInFlight: f.maxInFlight },
      peerHttp: f.peerHttp, httpSecurity, priorities: f.priorities, leaderBalancing: f.leaderBalancing,
      snapshotSendRate: f.snapshotSendRate, snapshotRecvRate: f.snapshotRecvRate,
    });
  } catch (e) {
    if (e instanceof StartError) throw new CliError(e.message);
    throw e;
  }
  const say = (line: string): void => { process.stdout.write(`sampan kv: ${line}\n`); };
  say(`replica ${f.replicaId} ready: http ${replica.url}, raft ${f.raftAddress}, shards 1..${f.shards}, ${f.stateMachine} state machine, data ${f.dataDir}`);
  say(`dashboard: ${replica.url}/`);
  if (httpSecurity.adminToken === undefined && !/^(127\.|\[::1\]|localhost)/.test(f.httpAddress)) {
    process.stderr.write(`sampan kv: warning: /admin/* on ${f.httpAddress} needs no token; set SAMPAN_ADMIN_TOKEN or --admin-token-file\n`);
  }
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
    .option('--read-mode <mode>', 'how linearizable reads are confirmed: read-index (a heartbeat round) or lease (answered at once by a leader holding a lease; assumes bounded clock drift, see docs/operations.md "Lease reads")', oneOf(['read-index', 'lease'] as const), 'read-index')
    .option('--entry-compression <kind>', 'none or snappy: compress each write proposed through this replica when that makes it smaller (log on disk and on the wire; replicas may differ, see docs/operations.md "Entry compression")', oneOf(['none', 'snappy'] as const), 'none')
    .option('--deployment-id <n>', 'replicas of different deployments refuse each other', intAtLeast(0))
    .option('--cluster-token <token>', 'mixed into each new shard\'s cluster identity with the initial members (give every initial member the same token; read only when bootstrapping)', clusterToken)
    .option('--tls-ca <file>', 'Raft port only: mutual TLS CA certificate (the HTTP port: --http-tls-*)')
    .option('--tls-cert <file>', 'Raft port only: mutual TLS, this replica\'s certificate')
    .option('--tls-key <file>', 'Raft port only: mutual TLS, this replica\'s key')
    .option('--http-tls-cert <file>', 'HTTP port only: serve HTTPS with this certificate (PEM)')
    .option('--http-tls-key <file>', 'HTTP port only: the key of --http-tls-cert (PEM)')
    .option('--http-tls-client-ca <file>', 'HTTP port only: require client certificates signed by this CA')
    .option('--admin-token-file <file>', 'require this bearer token on /admin/* (or set SAMPAN_ADMIN_TOKEN; at least 16 characters)')
    .option('--export-root <dir>', 'snapshot exports (POST /admin/snapshot?export=DIR) must lie under this directory')
    .option('--peer-http <list>', 'other replicas\' HTTP addresses for GET /cluster and the dashboard at /: 1=HOST:PORT,2=HOST:PORT,…', members)
    .option('--priorities <list>', 'leader priority by replica id, the same list on every replica: 1=2,2=1,3=0 (absent: 1; higher leads when caught up; 0 never leads)', priorities)
    .option('--no-leader-balancing', 'do not move leadership between replicas to even out leaders (priorities still apply)')
    .option('--snapshot-send-rate <bytes>', 'snapshot bytes sent per second, all streams together, e.g. 50mb (default: 0, unlimited)', byteCount)
    .option('--snapshot-recv-rate <bytes>', 'snapshot bytes received per second, all streams together, e.g. 50mb (default: 0, unlimited)', byteCount)
    .option('--max-in-flight <n>', 'HTTP requests served at once before 429 (default: 1024)', intAtLeast(1))
    .option('--log-level <level>', 'debug, info, warn or error (to stderr)', oneOf(LOG_LEVELS), 'warn')
    .action(async (flags: KvFlags) => { exit(await run(flags)); });
}
