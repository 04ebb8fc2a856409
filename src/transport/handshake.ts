/**
 * The handshake: the payload of the first {@link FrameKind.Ping} a dialer writes on a message
 * connection, and of another whenever its host registry changed. It says who the dialer is —
 * its deployment, its host id, its advertised raft address and that address's incarnation —
 * and carries a bounded gossip of other hosts' entries (see `host-registry.ts`).
 *
 * ```
 * payload = version:u8 json
 * json    = {"d": deploymentId, "h": hostId, "a": address, "i": incarnation, "f": [formerAddress, …],
 *            "g": [[hostId, address, incarnation, [formerAddress, …]], …]}
 * ```
 *
 * Why a Ping and not a frame kind of its own: an acceptor of an earlier release answers any
 * Ping with a Pong and ignores its payload, while it would close a connection that opens with
 * an unknown frame kind; so mixed-release clusters work with no fallback logic (a rolling
 * upgrade), and the new acceptor reads what the old one ignores. The payload is small (at most
 * {@link MAX_GOSSIP} entries) and checksummed by its frame, so JSON costs nothing that matters
 * and lets later versions add fields that this one ignores. A receiver closes the connection
 * on an unknown version or a malformed payload.
 */
import { CodecError } from '../errors.js';
import { encodeFrame, FrameKind } from './frame.js';

/** Handshake version; a dialer speaking another one is disconnected. */
export const HANDSHAKE_VERSION = 1;

/** Most registry entries one handshake carries. */
export const MAX_GOSSIP = 32;

/** Most former addresses one entry carries. */
export const MAX_FORMER = 4;

/** One host as a registry knows it. */
export interface HostEntry {
  /** The host's id (16 hex digits). */
  readonly hostId: string;
  /** Its current advertised raft address. */
  readonly address: string;
  /** Raised each time the host moves; the higher incarnation wins. */
  readonly incarnation: number;
  /** Addresses it had before (newest first, at most four). */
  readonly former: readonly string[];
}

/** A decoded handshake. */
export interface Handshake {
  /** The dialer's deployment id; another deployment's handshake closes the connection. */
  readonly deploymentId: number;
  /** The dialer itself. */
  readonly self: HostEntry;
  /** Other hosts the dialer knows (never the dialer itself). */
  readonly gossip: readonly HostEntry[];
}

const HOST_ID = /^[0-9a-f]{16}$/;

function entryJson(e: HostEntry): unknown[] {
  return [e.hostId, e.address, e.incarnation, e.former.slice(0, MAX_FORMER)];
}

/** Encodes `h` as a whole Ping frame carrying it; gossip beyond {@link MAX_GOSSIP} entries is left out. */
export function encodeHello(h: Handshake): Buffer {
  const json = JSON.stringify({
    d: h.deploymentId, h: h.self.hostId, a: h.self.address, i: h.self.incarnation, f: h.self.former.slice(0, MAX_FORMER),
    g: h.gossip.slice(0, MAX_GOSSIP).map(entryJson),
  });
  const body = Buffer.from(json, 'utf8');
  const payload = Buffer.allocUnsafe(1 + body.length);
  payload[0] = HANDSHAKE_VERSION;
  body.copy(payload, 1);
  return encodeFrame(FrameKind.Ping, payload);
}

function str(v: unknown, what: string, max = 300): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > max) throw new CodecError(`handshake: bad ${what}`);
  return v;
}

function count(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new CodecError(`handshake: bad ${what}`);
  return v;
}

function formerOf(v: unknown): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.length > MAX_FORMER) throw new CodecError('handshake: bad former addresses');
  return v.map((a) => str(a, 'former address'));
}

function entryOf(v: unknown): HostEntry {
  if (!Array.isArray(v) || v.length < 3) throw new CodecError('handshake: bad gossip entry');
  const hostId = str(v[0], 'host id');
  if (!HOST_ID.test(hostId)) throw new CodecError('handshake: bad host id');
  return { hostId, address: str(v[1], 'address'), incarnation: count(v[2], 'incarnation'), former: formerOf(v[3]) };
}

/**
 * Decodes the payload of a Ping frame that carries a handshake (a non-empty one).
 * @throws CodecError for an unknown version or a malformed payload.
 */
export function decodeHello(payload: Uint8Array): Handshake {
  if (payload.length < 1) throw new CodecError('handshake: empty');
  if (payload[0] !== HANDSHAKE_VERSION) throw new CodecError(`handshake: unsupported version ${payload[0]}`);
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(Buffer.from(payload.buffer, payload.byteOffset + 1, payload.length - 1).toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new CodecError('handshake: not JSON');
  }
  if (o === null || typeof o !== 'object') throw new CodecError('handshake: not an object');
  const self = entryOf([o.h, o.a, o.i, o.f]);
  const g = o.g ?? [];
  if (!Array.isArray(g) || g.length > MAX_GOSSIP) throw new CodecError('handshake: bad gossip');
  return { deploymentId: count(o.d, 'deployment id'), self, gossip: g.map(entryOf).filter((e) => e.hostId !== self.hostId) };
}
