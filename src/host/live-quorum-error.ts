/**
 * The one line an operator reads when the leader refuses a membership change by its
 * live-quorum check (`core/live-quorum.ts`): what the change would do, and what to do instead.
 */
import type { LiveQuorumShortfall } from '../core/live-quorum.js';
import { ConfigChangeType, type ConfigChange } from '../core/types.js';
import { NotEnoughLiveVotersError } from '../errors.js';

const OP_WORDS: Readonly<Record<number, string>> = {
  [ConfigChangeType.AddVoter]: 'add',
  [ConfigChangeType.AddNonVoting]: 'add-non-voting',
  [ConfigChangeType.RemoveReplica]: 'remove',
};

/** What `cc` does, in words, and the advice that fits it. */
function describe(cc: ConfigChange, shardId: number): { what: string; advice: string } {
  const id = cc.replicaId;
  const force = 'or force the change';
  switch (cc.type) {
    case ConfigChangeType.AddVoter:
      return {
        what: `adding voter ${id} to shard ${shardId}`,
        advice: `add it as non-voting, start it and promote it once caught up (requestAddReplica with catchUpFirst does this), start the stopped voters, ${force}`,
      };
    case ConfigChangeType.AddWitness:
      return { what: `adding witness ${id} to shard ${shardId}`, advice: `start the stopped voters first, ${force}` };
    case ConfigChangeType.AddNonVoting:
      return { what: `demoting voter ${id} of shard ${shardId}`, advice: `start the stopped voters first, ${force}` };
    case ConfigChangeType.RemoveReplica:
      return { what: `removing voter ${id} from shard ${shardId}`, advice: `start the stopped voters first, ${force}` };
    default: {
      const ops = (cc.ops ?? []).map((o) => `${OP_WORDS[o.type] ?? String(o.type)} ${o.replicaId}`).join(', ');
      return {
        what: `the joint change of shard ${shardId} (${ops})`,
        advice: `add new voters as non-voting first and promote them once caught up, start the stopped voters, ${force}`,
      };
    }
  }
}

/** The typed error for change `cc` of shard `shardId`, refused with shortfall `s`. */
export function notEnoughLiveVoters(shardId: number, cc: ConfigChange, s: LiveQuorumShortfall): NotEnoughLiveVotersError {
  const { what, advice } = describe(cc, shardId);
  const msg = `${what} would leave ${s.live} of ${s.voters} voters live, below the quorum of ${s.quorum}: ${advice}`;
  return new NotEnoughLiveVotersError(shardId, s.live, s.voters, s.quorum, msg);
}
