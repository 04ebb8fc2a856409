/**
 * The transport layer: the {@link Transport} contract, the TCP (and mutual TLS) transport,
 * the in-memory transport with fault injection, and the wire codec.
 */
export type {
  Transport, TransportHandler, SnapshotReceiver, AddressResolver, TransportStats,
} from './transport.js';
export { emptyStats, isNetworkMessageType } from './transport.js';
export type { MessageBatch } from './codec.js';
export { CODEC_VERSION, encodeBatch, decodeBatch, encodeMessage, decodeMessage } from './codec.js';
export { WIRE_VERSION, FrameKind, FrameDecoder, encodeFrame, FRAME_HEADER_SIZE } from './frame.js';
export type { Frame } from './frame.js';
export { StaticAddressResolver } from './static-resolver.js';
export { TcpTransport } from './tcp-transport.js';
export type { TcpTransportOptions, TlsFiles } from './tcp-options.js';
export { MemoryNetwork } from './memory-network.js';
export type { Faults, MemoryTransportOptions } from './memory-network.js';
export { MemoryTransport } from './memory-transport.js';
