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
import { ConfigChangeType, type ConfigChange } from '../core/types.js';
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

/** Encodes a config change as the payload of a ConfigChange entry (a plain Uint8Array of its own). */
export function encodeConfigChange(cc: ConfigChange): Uint8Array {
  const w = new Writer(CC_HEADER_BYTES + cc.address.length * 3);
  w.u8(CC_VERSION);
  w.u8(cc.type);
  w.u8((cc.initialize ? CC_INITIALIZE : 0) | (cc.ordered === undefined ? 0 : CC_ORDER_GIVEN | (cc.ordered ? CC_ORDERED : 0)));
  w.f64be(cc.configChangeId);
  w.f64be(cc.replicaId);
  const address = Buffer.from(cc.address, 'utf8');
  w.u32be(address.length);
  w.raw(address);
  return Uint8Array.from(w.view());
}

/** Decodes a ConfigChange entry's payload. @throws CodecError on malformed bytes. */
export function decodeConfigChange(b: Uint8Array): ConfigChange {
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
