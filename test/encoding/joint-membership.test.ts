/**
 * The joint membership form and the joint config-change payload: they round-trip in both
 * layouts, a membership that is not joint keeps its old bytes, and the way a reader from
 * before joint consensus starts reading either (configChangeId as an integer; the payload's
 * version byte) fails with a CodecError instead of misreading it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CodecError } from '../../src/errors.js';
import { FIXED, VARINT } from '../../src/encoding/layout.js';
import { Reader } from '../../src/encoding/reader.js';
import { Writer } from '../../src/encoding/writer.js';
import { decodeMembership, encodeMembership, readMembership, writeMembership } from '../../src/encoding/membership.js';
import { decodeConfigChange, encodeConfigChange } from '../../src/encoding/config-change.js';
import { ConfigChangeType, type Membership } from '../../src/core/types.js';
import { MEMBERSHIP } from './support/format-values.js';

const JOINT: Membership = {
  ...MEMBERSHIP,
  joint: { outgoing: new Map([[1, 'a1:7001'], [2, 'a2:7002'], [3, 'a3:7003']]), nonVotingNext: new Map([[2, 'a2:7002']]), autoLeave: true },
};

test('joint membership: round-trips in FIXED and VARINT; the simple form is unchanged', () => {
  assert.deepEqual(decodeMembership(encodeMembership(JOINT)), JOINT);
  const w = new Writer(64);
  writeMembership(w, JOINT, VARINT);
  const r = new Reader(Uint8Array.from(w.view()));
  assert.deepEqual(readMembership(r, VARINT), JOINT);
  assert.equal(r.remaining, 0);
  const simple = encodeMembership(MEMBERSHIP);
  const joint = encodeMembership(JOINT);
  assert.deepEqual(joint.subarray(9, 9 + simple.length), simple, 'the joint form embeds the old form after its marker');
});

test('joint membership: an old reader (configChangeId first) refuses it with a CodecError', () => {
  const fixed = encodeMembership(JOINT);
  assert.throws(() => FIXED.readUint(new Reader(fixed)), CodecError);
  const w = new Writer(64);
  writeMembership(w, JOINT, VARINT);
  assert.throws(() => VARINT.readUint(new Reader(Uint8Array.from(w.view()))), CodecError);
});

test('joint config change: version 2 payload round-trips; an old reader sees a bad header', () => {
  const cc = {
    configChangeId: 7, type: ConfigChangeType.EnterJoint, replicaId: 0, address: '', initialize: false,
    ops: [{ type: ConfigChangeType.AddVoter, replicaId: 4, address: 'a4:7004' }, { type: ConfigChangeType.RemoveReplica, replicaId: 3, address: '' }],
    autoLeave: true, ordered: true,
  };
  const b = encodeConfigChange(cc);
  assert.deepEqual(decodeConfigChange(b), cc);
  assert.equal(b[0], 2, 'releases before joint consensus accept version 1 only');
  assert.throws(() => decodeConfigChange(b.subarray(0, b.length - 1)), CodecError);
});
