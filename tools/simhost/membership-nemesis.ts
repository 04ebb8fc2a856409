/**
 * The host simulator's membership changes (5-host seeds, where shards start on three hosts):
 * single changes — add a replica on a host without one (it joins), remove one from a shard of
 * more than three — and joint changes (thesis §4.3, `NodeHost.requestJointChange`): several
 * replicas added (as voters or non-voting), removed or promoted at once, with or without
 * auto-leave; one entered without it is left later by `requestLeaveJoint` through some member.
 *
 * What the world believes a shard's members are is `HostSlot.replicas`: a replica is recorded
 * once it may be a member (an add that succeeded or whose outcome is unknown: it may have
 * applied) and dropped once its removal succeeded. The replicas a joint change adds are
 * started (join) when it is proposed, so that a new configuration whose quorum needs them can
 * form; a change the shard refused stops them again.
 */
import { RejectedError } from '../../src/errors.js';
import type { MemberOp } from '../../src/host/membership-calls.js';
import type { SimRandom } from './sim-random.js';
import type { HostSlot, World } from './world.js';

/** What the membership nemesis needs of its seed. */
export interface MembershipContext {
  readonly w: World;
  readonly r: SimRandom;
  readonly shards: number;
  readonly timeoutMs: number;
  trace(s: string): void;
  count(k: string): void;
  /** Races a call against a virtual-time timeout (undefined on timeout). */
  within<T>(p: Promise<T>, ms: number): Promise<{ v: T } | { err: unknown } | undefined>;
}

/** Membership changes of one seed. */
export class MembershipNemesis {
  private nextReplicaId = 10;
  /** `shard/replica` of replicas added as non-voting (promotion candidates). */
  private readonly nonVoting = new Set<string>();

  constructor(private readonly c: MembershipContext) {}

  /** One membership step: a joint change about a third of the time, else a single add or remove. */
  step(): void {
    const { w, r } = this.c;
    const shard = r.int(1, this.c.shards + 1);
    const members = w.hosts.filter((x) => x.replicas.has(shard));
    const vias = members.filter((x) => x.up && x.nh !== undefined);
    if (vias.length === 0) return;
    const via = r.pick(vias);
    if (r.int(0, 3) === 0) this.joint(shard, members, via);
    else this.single(shard, members, via);
  }

  /** Starts `shard`'s replica `rid` on `h` (join) when `h` is up; failures are the checks' business. */
  private startJoining(h: HostSlot, shard: number, rid: number): void {
    const { w } = this.c;
    h.replicas.set(shard, rid);
    h.joined.add(shard);
    const hnh = h.nh;
    if (h.up && hnh !== undefined) void w.asHost(h, 'join', () => w.startReplica(h, hnh, shard, rid, new Map(), true)).catch(() => undefined);
  }

  /** Forgets (and stops, when still running in the same incarnation) `shard`'s replica `rid` on `h`. */
  private forget(h: HostSlot, shard: number, rid: number, stop: boolean): void {
    if (h.replicas.get(shard) !== rid) return;
    h.replicas.delete(shard);
    // A removed replica is left running here (it learns of its removal itself).
    if (!stop) h.leftShards.add(shard);
    h.joined.delete(shard);
    this.nonVoting.delete(`${shard}/${rid}`);
    const hnh = h.nh;
    if (stop && h.up && hnh !== undefined) void this.c.w.asHost(h, 'stop', () => hnh.stopReplica(shard, rid)).catch(() => undefined);
  }

  /**
   * Adds a replica of `shard` on a host without one (it joins), or removes one from a shard of
   * more than three. An add whose outcome is unknown may have applied: its replica is started
   * anyway (a replica that never became a member just waits).
   */
  private single(shard: number, members: HostSlot[], via: HostSlot): void {
    const { w, r, trace, count } = this.c;
    const vnh = via.nh!;
    const free = w.hosts.filter((x) => !x.replicas.has(shard) && !x.leftShards.has(shard) && !x.retired);
    if (free.length > 0 && (members.length <= 3 || r.chance(0.5))) {
      const h = r.pick(free);
      const rid = this.nextReplicaId++;
      trace(`add shard ${shard} replica ${rid} on ${h.address} via ${via.address}`); count('adds');
      void this.c.within(w.asHost(via, 'add', () => vnh.requestAddReplica(shard, rid, h.address, { timeoutMs: this.c.timeoutMs })), this.c.timeoutMs).then((res) => {
        if (res !== undefined && !('v' in res)) return;
        if (res !== undefined) count('addsDone');
        this.startJoining(h, shard, rid);
      });
    } else if (members.length > 3) {
      const h = r.pick(members);
      const rid = h.replicas.get(shard)!;
      trace(`remove shard ${shard} replica ${rid} on ${h.address} via ${via.address}`); count('removes');
      void this.c.within(w.asHost(via, 'remove', () => vnh.requestDeleteReplica(shard, rid, { timeoutMs: this.c.timeoutMs })), this.c.timeoutMs).then((res) => {
        if (res === undefined || !('v' in res)) return;
        count('removesDone');
        this.forget(h, shard, rid, false);
      });
    }
  }

  /**
   * A joint change of `shard` through `via`: up to two new replicas (a quarter of them
   * non-voting) on hosts without one, up to two members removed, known non-voting members
   * promoted; at least three members stay. Without auto-leave (a third of the changes) the
   * joint configuration is left later by `requestLeaveJoint`.
   */
  private joint(shard: number, members: HostSlot[], via: HostSlot): void {
    const { w, r, trace, count } = this.c;
    const vnh = via.nh!;
    const free = w.hosts.filter((x) => !x.replicas.has(shard) && !x.leftShards.has(shard) && !x.retired);
    const adds: HostSlot[] = [];
    for (let n = r.int(0, Math.min(2, free.length) + 1); n > 0; n--) adds.push(free.splice(r.int(0, free.length), 1)[0]!);
    const removable = members.filter((x) => x !== via);
    const removes: HostSlot[] = [];
    for (let n = r.int(0, 3); n > 0 && members.length + adds.length - removes.length > 3 && removable.length > 0; n--) {
      removes.push(removable.splice(r.int(0, removable.length), 1)[0]!);
    }
    const ops: MemberOp[] = [];
    const added: Array<[HostSlot, number]> = [];
    for (const h of adds) {
      const rid = this.nextReplicaId++;
      const nonVoting = r.int(0, 4) === 0;
      if (nonVoting) this.nonVoting.add(`${shard}/${rid}`);
      ops.push({ op: nonVoting ? 'add-non-voting' : 'add', replicaId: rid, address: h.address });
      added.push([h, rid]);
    }
    const removed: Array<[HostSlot, number]> = removes.map((h) => [h, h.replicas.get(shard)!]);
    for (const [, rid] of removed) ops.push({ op: 'remove', replicaId: rid });
    for (const h of members) {
      const rid = h.replicas.get(shard)!;
      if (this.nonVoting.has(`${shard}/${rid}`) && !removes.includes(h) && r.chance(0.5)) ops.push({ op: 'promote', replicaId: rid });
    }
    if (ops.length === 0) return;
    const autoLeave = r.int(0, 3) !== 0;
    trace(`joint shard ${shard} ${JSON.stringify(ops)}${autoLeave ? '' : ' no-auto-leave'} via ${via.address}`); count('jointChanges');
    for (const [h, rid] of added) this.startJoining(h, shard, rid);
    const timeoutMs = this.c.timeoutMs * 2;
    void this.c.within(w.asHost(via, 'joint', () => vnh.requestJointChange(shard, ops, { timeoutMs, autoLeave })), timeoutMs).then((res) => {
      if (res !== undefined && !('v' in res)) {
        // Refused (already joint, a change pending, ...): the new replicas never became members.
        if (res.err instanceof RejectedError) for (const [h, rid] of added) this.forget(h, shard, rid, true);
        return;
      }
      if (res === undefined) return;
      count('jointDone');
      for (const op of ops) if (op.op === 'promote') this.nonVoting.delete(`${shard}/${op.replicaId}`);
      // Without auto-leave the removed replicas stay in the outgoing half until the leave.
      if (autoLeave) for (const [h, rid] of removed) this.forget(h, shard, rid, false);
      else this.leaveLater(shard, removed);
    });
  }

  /** Leaves `shard`'s joint configuration a little later, through some live member; then forgets `removed`. */
  private leaveLater(shard: number, removed: ReadonlyArray<[HostSlot, number]>): void {
    const { w, r, trace, count } = this.c;
    w.sched.schedule(r.int(0, 400), () => {
      const vias = w.hosts.filter((x) => x.replicas.has(shard) && x.up && x.nh !== undefined);
      if (vias.length === 0) return;
      const via = r.pick(vias);
      const vnh = via.nh!;
      trace(`leave joint shard ${shard} via ${via.address}`); count('jointLeaves');
      void this.c.within(w.asHost(via, 'leave joint', () => vnh.requestLeaveJoint(shard, { timeoutMs: this.c.timeoutMs })), this.c.timeoutMs).then((res) => {
        if (res === undefined || !('v' in res)) return;
        count('jointLeft');
        for (const [h, rid] of removed) this.forget(h, shard, rid, false);
      });
    }, 'leave-joint', 'sim');
  }
}
