/**
 * The schema of a replica's bootstrap record (the LogDB's `Bootstrap`). Only the WAL stores
 * it, in the fixed layout:
 *
 * ```
 * bootstrap = members:map flags:u8 smType:u8 [clusterId:u64]   (flags: 1 join, 2 has cluster id)
 * ```
 *
 * Records written before cluster identities existed (flags 0 or 1, no id) read back with none.
 */
import { CodecError } from '../errors.js';
import { StateMachineType } from '../core/types.js';
import { FIXED } from './layout.js';
import { readAddressMap, writeAddressMap } from './membership.js';
import type { Reader } from './reader.js';
import type { Writer } from './writer.js';

/** A bootstrap record as encoded; the LogDB's `Bootstrap` has this shape. */
export interface BootstrapRecord {
  readonly members: ReadonlyMap<number, string>;
  readonly join: boolean;
  readonly smType: StateMachineType;
  readonly clusterId?: number;
}

const BOOT_JOIN = 1;
const BOOT_CLUSTER_ID = 2;

/** Appends a bootstrap record (fixed layout); a clusterId of 0 or none is not written. */
export function writeBootstrapFixed(w: Writer, b: BootstrapRecord): void {
  const id = b.clusterId ?? 0;
  writeAddressMap(w, b.members, FIXED);
  w.u8((b.join ? BOOT_JOIN : 0) | (id !== 0 ? BOOT_CLUSTER_ID : 0));
  w.u8(b.smType);
  if (id !== 0) w.u64le(id);
}

/** Reads a fixed-layout bootstrap record. @throws CodecError */
export function readBootstrapFixed(r: Reader): BootstrapRecord {
  const members = readAddressMap(r, FIXED), flags = r.u8(), smType = r.u8();
  if ((flags & ~(BOOT_JOIN | BOOT_CLUSTER_ID)) !== 0) throw new CodecError(`bad bootstrap flags ${flags}`);
  if (smType < StateMachineType.Regular || smType > StateMachineType.OnDisk) throw new CodecError(`bad state machine type ${smType}`);
  const join = (flags & BOOT_JOIN) !== 0;
  if ((flags & BOOT_CLUSTER_ID) === 0) return { members, join, smType: smType as StateMachineType };
  return { members, join, smType: smType as StateMachineType, clusterId: r.u64le() };
}
