/**
 * sampan: multi-group Raft for Node.js. This module names every public export.
 * @packageDocumentation
 */
export {
  SampanError, CallerError, RuntimeConditionError, InvalidOptionError, InvalidOperationError,
  PayloadTooBigError, CorruptionError, CodecError, ClosedError,
} from './errors.js';
