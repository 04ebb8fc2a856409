/**
 * A linearizable read whose ReadIndex, or its answer, is lost is asked again after an election
 * timeout. The transport may drop any message; without the resend a read sent to a leader that
 * stays leader in the same term waited out its whole deadline (the pending read was re-sent only
 * when the leader or term changed). Shown with the in-memory network and a filter that drops
 * one message of the kind under test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HostCluster } from './support/cluster.js';
import { setCmd } from './support/kv.js';
import { MessageType, type Message } from '../../src/core/types.js';
import type { Transport } from '../../src/contracts/transport.js';

/** Drops the next message that `pick` matches, once armed. */
class DropOnce {
  pick: ((m: Message) => boolean) | null = null;
  dropped = 0;

  /** A transport that passes everything to `inner`, except the one message picked. */
  wrap(inner: Transport): Transport {
    return new Proxy(inner, {
      get: (t, p) => {
        if (p === 'send') {
          return (m: Message): boolean => {
            if (this.pick?.(m) === true) {
              this.pick = null;
              this.dropped++;
              return true;
            }
            return t.send(m);
          };
        }
        const v: unknown = Reflect.get(t, p, t);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
      },
    });
  }
}

const RTT = 20;
const ELECTION_RTT = 10;

async function trio(): Promise<{ c: HostCluster; drops: Map<number, DropOnce>; leader: number; follower: number }> {
  const c = new HostCluster();
  const drops = new Map<number, DropOnce>();
  for (const i of [1, 2, 3]) {
    const d = new DropOnce();
    drops.set(i, d);
    await c.start(i, {
      rttMillisecond: RTT,
      transportFactory: (handler) => d.wrap(c.network.createTransport({ address: c.address(i), handler })),
    });
  }
  await c.startShard(1, [1, 2, 3], { config: { electionRTT: ELECTION_RTT } });
  const leader = await c.waitLeader(1, [1, 2, 3]);
  const follower = [1, 2, 3].find((i) => i !== leader) as number;
  await c.get(follower).propose(1, setCmd('a', '1'));
  return { c, drops, leader, follower };
}

for (const [what, type, side] of [
  ['answer (ReadIndexResp)', MessageType.ReadIndexResp, 'leader'],
  ['request (ReadIndex)', MessageType.ReadIndex, 'follower'],
] as const) {
  test(`a follower's read whose ${what} is lost is asked again and served well before its deadline`, { timeout: 20000 }, async () => {
    const { c, drops, leader, follower } = await trio();
    try {
      const d = drops.get(side === 'leader' ? leader : follower) as DropOnce;
      d.pick = (m) => m.type === type && m.shardId === 1;
      const t0 = Date.now();
      await c.get(follower).readIndex(1, { timeoutMs: 5000 });
      const ms = Date.now() - t0;
      assert.equal(d.dropped, 1, 'the message was dropped');
      // One election timeout is 200 ms here; allow for a slow machine, far below the 5 s deadline.
      assert.ok(ms < 2500, `read served after ${ms} ms`);
      const st = c.get(follower).getStats().shards.find((s) => s.shardId === 1);
      assert.ok((st?.readsResent ?? 0) >= 1, 'counted as resent');
      // The read still sees what was applied before it began.
      assert.equal(await c.get(follower).read(1, 'a'), '1');
    } finally {
      await c.closeAll();
    }
  });
}

test('reads answered in time are not sent again', { timeout: 20000 }, async () => {
  const { c, follower } = await trio();
  try {
    for (let k = 0; k < 20; k++) await c.get(follower).readIndex(1, { timeoutMs: 5000 });
    // Idle past several election timeouts: nothing is outstanding, so nothing is resent.
    await new Promise((r) => setTimeout(r, RTT * ELECTION_RTT * 3));
    const st = c.get(follower).getStats().shards.find((s) => s.shardId === 1);
    assert.equal(st?.readsResent, 0);
  } finally {
    await c.closeAll();
  }
});
