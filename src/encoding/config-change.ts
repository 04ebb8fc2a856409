/**
 * The schema of a config change: the payload of a ConfigChange log entry. One layout (it is
 * inside an entry's `cmd`, whatever layout carries the entry), kept from release 0.1:
 *
 * ```
 * version:u8 (1) type:u8 flags:u8 configChangeId:f64 BE replicaId:f64 BE addressLength:u32 BE address
 *   flags: 1 initialize, 2 the proposer said whether the change is ordered, 4 its answer
 * ```
 *
 * src/core encodes (bootstrap, proposals) and decodes (apply) these, so this file and what it
 * imports stay pure like core (no Node modules; see eslint.config.js).
 */
import { CodecError } from '../errors.js';
import { ConfigChangeType, type ConfigChange, type ConfigChangeOp } from '../core/types.js';
import { Reader, decodeUtf8 } from './reader.js';
import { Writer } from './writer.js';

const CC_VERSION = 1;
/** Bytes before the address. */
const CC_HEADER_BYTES = 23;
/** Flag bits of the third byte (0.1 wrote 0 or 1: initialize only). */
const CC_INITIALIZE = 1;
/** The proposer said whether the version is checked (bit CC_ORDERED holds its answer). */
const CC_ORDER_GIVEN = 2;
const CC_ORDERED = 4;
/** The version of a joint change's payload. */
const CC_JOINT_VERSION = 2;
/** Bytes before the first op of a joint change. */
const CC_JOINT_HEADER_BYTES = 15;
/** Bytes of an op before its address. */
const CC_OP_HEADER_BYTES = 13;
/** Joint flag: the leader leaves the joint configuration by itself. */
const CC_AUTO_LEAVE = 8;

function orderFlags(cc: ConfigChange): number {
  return cc.ordered === undefined ? 0 : CC_ORDER_GIVEN | (cc.ordered ? CC_ORDERED : 0);
}

function isJointType(t: ConfigChangeType): boolean {
  return t === ConfigChangeType.EnterJoint || t === ConfigChangeType.LeaveJoint;
}

function encodeJoint(cc: ConfigChange): Uint8Array {
  const ops = cc.ops ?? [];
  const w = new Writer(CC_JOINT_HEADER_BYTES + ops.reduce((n, o) => n + CC_OP_HEADER_BYTES + o.address.length * 3, 0));
  w.u8(CC_JOINT_VERSION);
  w.u8(cc.type);
  w.u8(orderFlags(cc) | (cc.autoLeave === true ? CC_AUTO_LEAVE : 0));
  w.f64be(cc.configChangeId);
  w.u32be(ops.length);
  for (const o of ops) {
    w.u8(o.type);
    w.f64be(o.replicaId);
    w.str32be(o.address);
  }
  return Uint8Array.from(w.view());
}

function decodeJoint(b: Uint8Array): ConfigChange {
  if (b.length < CC_JOINT_HEADER_BYTES) throw new CodecError('config change: bad header');
  const r = new Reader(b, 1);
  const type = r.u8();
  if (type !== ConfigChangeType.EnterJoint && type !== ConfigChangeType.LeaveJoint) throw new CodecError(`config change: bad joint type ${type}`);
  const flags = r.u8();
  if (flags > 15 || (flags & CC_INITIALIZE) !== 0 || (flags & (CC_ORDER_GIVEN | CC_ORDERED)) === CC_ORDERED) {
    throw new CodecError(`config change: bad flags ${flags}`);
  }
  const configChangeId = r.f64be();
  const n = r.u32be();
  if (n * CC_OP_HEADER_BYTES > b.length - CC_JOINT_HEADER_BYTES) throw new CodecError('config change: bad op count');
  const ops: ConfigChangeOp[] = [];
  for (let i = 0; i < n; i++) {
    const opType = r.u8();
    if (opType !== ConfigChangeType.AddVoter && opType !== ConfigChangeType.AddNonVoting && opType !== ConfigChangeType.RemoveReplica) {
      throw new CodecError(`config change: bad op type ${opType}`);
    }
    const replicaId = r.f64be();
    if (!Number.isSafeInteger(replicaId)) throw new CodecError('config change: bad id');
    let address: string;
    try {
      address = decodeUtf8(r.raw(r.u32be()));
    } catch (e) {
      if (e instanceof CodecError) throw e;
      throw new CodecError('config change: address is not UTF-8');
    }
    ops.push({ type: opType as ConfigChangeType, replicaId, address });
  }
  r.done();
  if (!Number.isSafeInteger(configChangeId)) throw new CodecError('config change: bad id');
  const cc: ConfigChange = {
    type: type as ConfigChangeType, initialize: false, configChangeId, replicaId: 0, address: '', ops,
    autoLeave: (flags & CC_AUTO_LEAVE) !== 0,
  };
  return (flags & CC_ORDER_GIVEN) === 0 ? cc : { ...cc, ordered: (flags & CC_ORDERED) !== 0 };
}

/** Encodes a config change as the payload of a ConfigChange entry (a plain Uint8Array of its own). */
export function encodeConfigChange(cc: ConfigChange): Uint8Array {
  if (isJointType(cc.type)) return encodeJoint(cc);
  const w = new Writer(CC_HEADER_BYTES + cc.address.length * 3);
  w.u8(CC_VERSION);
  w.u8(cc.type);
  w.u8((cc.initialize ? CC_INITIALIZE : 0) | orderFlags(cc));
  w.f64be(cc.configChangeId);
  w.f64be(cc.replicaId);
  w.str32be(cc.address);
  return Uint8Array.from(w.view());
}

/** Decodes a ConfigChange entry's payload. @throws CodecError on malformed bytes. */
export function decodeConfigChange(b: Uint8Array): ConfigChange {
  if (b[0] === CC_JOINT_VERSION) return decodeJoint(b);
  if (b.length < CC_HEADER_BYTES || b[0] !== CC_VERSION) throw new CodecError('config change: bad header');
  const r = new Reader(b, 1);
  const type = r.u8();
  if (type > ConfigChangeType.AddWitness) throw new CodecError(`config change: bad type ${type}`);
  const flags = r.u8();
  const configChangeId = r.f64be();
  const replicaId = r.f64be();
  if (CC_HEADER_BYTES + r.u32be() !== b.length) throw new CodecError('config change: bad length');
  if (!Number.isSafeInteger(configChangeId) || !Number.isSafeInteger(replicaId)) throw new CodecError('config change: bad id');
  let address: string;
  try {
    address = decodeUtf8(r.rest());
  } catch {
    throw new CodecError('config change: address is not UTF-8');
  }
  if (flags > 7 || (flags & (CC_ORDER_GIVEN | CC_ORDERED)) === CC_ORDERED) throw new CodecError(`config change: bad flags ${flags}`);
  const cc = { type: type as ConfigChangeType, initialize: (flags & CC_INITIALIZE) !== 0, configChangeId, replicaId, address };
  return (flags & CC_ORDER_GIVEN) === 0 ? cc : { ...cc, ordered: (flags & CC_ORDERED) !== 0 };
}
