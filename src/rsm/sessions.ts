/**
 * Client sessions for exactly-once proposals (thesis §6.3, dragonboat's session manager).
 * A client registers a session; each proposal carries a series id; the replicated state
 * machine applies a series id at most once and remembers its result until the client says it
 * has seen it (`respondedTo`). Sessions are bounded per shard by LRU eviction.
 *
 * Every replica performs the same operations in log order, so the LRU order — and with it,
 * which session is evicted — is identical everywhere; it is kept in snapshots, in order.
 */
import { CodecError } from '../errors.js';
import type { SMResult } from '../contracts/state-machine.js';

/** Default number of sessions a shard keeps (dragonboat's LRUMaxSessionCount). */
export const DEFAULT_MAX_SESSIONS = 4096;

/** One client session. */
export interface Session {
  readonly clientId: number;
  respondedTo: number;
  readonly history: Map<number, SMResult>;
}

/** What to do with a session proposal. */
export type SessionVerdict =
  | { readonly kind: 'apply'; readonly session: Session }
  | { readonly kind: 'duplicate'; readonly result: SMResult }
  | { readonly kind: 'responded' }
  | { readonly kind: 'unknown-session' };

/** The sessions of one shard. */
export class SessionManager {
  private readonly sessions = new Map<number, Session>();

  constructor(private readonly max = DEFAULT_MAX_SESSIONS) {}

  get size(): number { return this.sessions.size; }

  private touch(id: number): Session | undefined {
    const s = this.sessions.get(id);
    if (s !== undefined) {
      this.sessions.delete(id);
      this.sessions.set(id, s);
    }
    return s;
  }

  /** Registers `clientId`; value is the id when new, 0 when it already existed. */
  register(clientId: number): SMResult {
    if (this.touch(clientId) !== undefined) return { value: 0 };
    this.sessions.set(clientId, { clientId, respondedTo: 0, history: new Map() });
    if (this.sessions.size > this.max) {
      const oldest = this.sessions.keys().next().value;
      if (oldest !== undefined) this.sessions.delete(oldest);
    }
    return { value: clientId };
  }

  /** Unregisters `clientId`; value is the id when it existed, 0 otherwise. */
  unregister(clientId: number): SMResult {
    return this.sessions.delete(clientId) ? { value: clientId } : { value: 0 };
  }

  /**
   * Decides a session proposal: apply it, answer a duplicate from history, or ignore a series
   * the client already saw answered. Also forgets history up to `respondedTo`.
   */
  check(clientId: number, seriesId: number, respondedTo: number): SessionVerdict {
    const s = this.touch(clientId);
    if (s === undefined) return { kind: 'unknown-session' };
    if (respondedTo > s.respondedTo) {
      s.respondedTo = respondedTo;
      for (const k of [...s.history.keys()]) if (k <= respondedTo) s.history.delete(k);
    }
    if (seriesId <= s.respondedTo) return { kind: 'responded' };
    const prior = s.history.get(seriesId);
    if (prior !== undefined) return { kind: 'duplicate', result: prior };
    return { kind: 'apply', session: s };
  }

  /** Records the result of an applied series. */
  record(session: Session, seriesId: number, result: SMResult): void {
    session.history.set(seriesId, result);
  }

  /** Encodes every session, least recently used first, for a snapshot. */
  encode(): Uint8Array {
    const parts: number[] = [];
    const blobs: Uint8Array[] = [];
    for (const s of this.sessions.values()) {
      parts.push(s.clientId, s.respondedTo, s.history.size);
      for (const [series, r] of [...s.history].sort((a, b) => a[0] - b[0])) {
        parts.push(series, r.value, r.data?.length ?? -1);
        if (r.data !== undefined) blobs.push(r.data);
      }
    }
    let blobBytes = 0;
    for (const b of blobs) blobBytes += b.length;
    const out = new Uint8Array(12 + parts.length * 8 + blobBytes);
    const dv = new DataView(out.buffer);
    dv.setUint32(0, 1); // format version
    dv.setUint32(4, this.sessions.size);
    dv.setUint32(8, parts.length);
    let o = 12;
    for (const p of parts) { dv.setFloat64(o, p); o += 8; }
    for (const b of blobs) { out.set(b, o); o += b.length; }
    return out;
  }

  /** Replaces every session with those encoded by {@link encode}. @throws CodecError */
  restore(b: Uint8Array): void {
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    if (b.length < 12 || dv.getUint32(0) !== 1) throw new CodecError('sessions: bad header');
    const count = dv.getUint32(4);
    const nparts = dv.getUint32(8);
    if (12 + nparts * 8 > b.length) throw new CodecError('sessions: truncated');
    const parts: number[] = [];
    for (let i = 0; i < nparts; i++) parts.push(dv.getFloat64(12 + i * 8));
    let blob = 12 + nparts * 8;
    let p = 0;
    const next = (): number => {
      const v = parts[p++];
      if (v === undefined || !Number.isSafeInteger(v)) throw new CodecError('sessions: bad field');
      return v;
    };
    const sessions = new Map<number, Session>();
    for (let i = 0; i < count; i++) {
      const clientId = next();
      const respondedTo = next();
      const n = next();
      const history = new Map<number, SMResult>();
      for (let j = 0; j < n; j++) {
        const series = next();
        const value = parts[p++];
        if (value === undefined || !Number.isFinite(value)) throw new CodecError('sessions: bad result value');
        const len = next();
        if (len < -1 || blob + Math.max(len, 0) > b.length) throw new CodecError('sessions: bad result');
        if (len >= 0) {
          history.set(series, { value, data: b.slice(blob, blob + len) });
          blob += len;
        } else {
          history.set(series, { value });
        }
      }
      sessions.set(clientId, { clientId, respondedTo, history });
    }
    if (p !== nparts || blob !== b.length) throw new CodecError('sessions: trailing bytes');
    this.sessions.clear();
    for (const [k, v] of sessions) this.sessions.set(k, v);
  }
}
