/**
 * A {@link HealTestbed} where the kernel drops the packets, as a real partition would: three
 * network namespaces (one per replica) joined by veth pairs to a router namespace. Replica `i`
 * has its raft address on 10.77.i.2 (it also dials from there) and its HTTP API on 10.77.i.3.
 * A cut makes the router discard, without any ICMP answer, every packet to 10.77.v.2 (a
 * blackhole route) and from it (a policy rule into a table whose only route is a blackhole);
 * HTTP still reaches the replica. Requires root and `ip` (iproute2); no iptables or tc
 * classifier needed. The harness itself must run inside the router namespace (it speaks to the
 * replicas' HTTP APIs): see `tools/measure-partition-heal.ts --testbed netns`.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HealTestbed } from './partition-heal.js';

/** The router namespace; replica `i`'s is `${NS}-${i}`. */
export const NS = 'sampan-heal';
const TABLE = '177';

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Creates the router and three replica namespaces with their links. @throws if `ip` fails (not root?) */
export function setupNetns(): void {
  teardownNetns();
  ip('netns', 'add', NS);
  ip('-n', NS, 'link', 'set', 'lo', 'up');
  execFileSync('ip', ['netns', 'exec', NS, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
  for (const i of [1, 2, 3]) {
    const ns = `${NS}-${i}`;
    ip('netns', 'add', ns);
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    ip('link', 'add', `shr${i}`, 'netns', NS, 'type', 'veth', 'peer', 'name', `shv${i}`, 'netns', ns);
    ip('-n', NS, 'addr', 'add', `10.77.${i}.1/24`, 'dev', `shr${i}`);
    ip('-n', NS, 'link', 'set', `shr${i}`, 'up');
    ip('-n', ns, 'addr', 'add', `10.77.${i}.2/24`, 'dev', `shv${i}`);
    ip('-n', ns, 'addr', 'add', `10.77.${i}.3/24`, 'dev', `shv${i}`);
    ip('-n', ns, 'link', 'set', `shv${i}`, 'up');
    ip('-n', ns, 'route', 'add', 'default', 'via', `10.77.${i}.1`);
  }
  ip('-n', NS, 'route', 'add', 'blackhole', 'default', 'table', TABLE);
}

/** Removes the namespaces (and with them their links). Idempotent. */
export function teardownNetns(): void {
  for (const ns of [NS, `${NS}-1`, `${NS}-2`, `${NS}-3`]) {
    try {
      ip('netns', 'del', ns);
    } catch {
      // absent
    }
  }
}

/**
 * The testbed, for a harness running inside the router namespace; `bin` is the `sampan`
 * command to run (another build's `bin/sampan.js` to compare).
 */
export function netnsTestbed(rttMs: number, bin: string): HealTestbed {
  const root = mkdtempSync(join(tmpdir(), 'sampan-heal-'));
  const procs = new Map<number, { proc: ChildProcess; err: string; killed: boolean }>();
  const problems: string[] = [];
  const cuts = new Set<number>();
  const raft = (id: number): string => `10.77.${id}.2:7000`;
  const http = (id: number): string => `10.77.${id}.3:8000`;
  const heal = (): void => {
    for (const v of cuts) {
      ip('route', 'del', 'blackhole', `10.77.${v}.2/32`);
      ip('rule', 'del', 'from', `10.77.${v}.2/32`, 'table', TABLE);
    }
    cuts.clear();
  };
  return {
    name: 'netns',
    async start() {
      const ids = [1, 2, 3];
      const members = ids.map((id) => `${id}=${raft(id)}`).join(',');
      for (const id of ids) {
        const proc = spawn('ip', ['netns', 'exec', `${NS}-${id}`, process.execPath, bin, 'kv', '--replica-id', String(id),
          '--raft-address', raft(id), '--dial-from-host', `10.77.${id}.2`, '--http-address', http(id),
          '--data-dir', join(root, `r${id}`), '--rtt-ms', String(rttMs), '--shards', '1', '--initial-members', members],
        { stdio: ['ignore', 'ignore', 'pipe'] });
        const p = { proc, err: '', killed: false };
        proc.stderr?.on('data', (d: Buffer) => { p.err += d.toString(); });
        proc.once('exit', (code, sig) => {
          if (!p.killed) problems.push(`replica ${id} exited (${String(code ?? sig)}): ${p.err.trim().split('\n').slice(-2).join(' | ')}`);
        });
        procs.set(id, p);
      }
      const end = Date.now() + 60_000;
      for (const id of ids) {
        for (;;) {
          if (problems.length > 0) throw new Error(problems.join('; '));
          if (Date.now() > end) throw new Error(`replica ${id} not ready`);
          const ok = await fetch(`http://${http(id)}/status`, { signal: AbortSignal.timeout(1000) })
            .then(async (r) => r.ok && ((await r.json()) as { shards: Array<{ leaderId: number }> }).shards.every((s) => s.leaderId > 0), () => false);
          if (ok) break;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      return ids;
    },
    httpAddr: http,
    raftAddr: raft,
    cut(victim) {
      ip('route', 'add', 'blackhole', `10.77.${victim}.2/32`);
      ip('rule', 'add', 'from', `10.77.${victim}.2/32`, 'table', TABLE);
      cuts.add(victim);
    },
    heal,
    log: (id) => procs.get(id)?.err ?? '',
    problems: () => problems,
    async shutdown(keep) {
      heal();
      await Promise.all([...procs.values()].map((p) => new Promise<void>((resolve) => {
        p.killed = true;
        if (p.proc.exitCode !== null || p.proc.signalCode !== null) return resolve();
        p.proc.once('exit', () => resolve());
        p.proc.kill('SIGKILL');
      })));
      if (!keep) rmSync(root, { recursive: true, force: true });
    },
  };
}
