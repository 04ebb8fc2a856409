/**
 * The host registry a NodeHost's TCP transport routes through, made from the identity its
 * directory holds (see `dir-lock.ts` and `transport/host-registry.ts`) and kept in the
 * directory as `hosts.json`, so that a host that restarts still knows which peers moved.
 */
import { join } from 'node:path';
import type { Logger } from '../logger.js';
import { HostRegistry } from '../transport/host-registry.js';
import type { StoredHostIdentity } from './dir-lock.js';
import type { Runtime } from '../runtime/index.js';

/** The registry file's name in a host directory. */
export const HOST_REGISTRY_FILE = 'hosts.json';

/**
 * The registry of the host in `dir` whose identity is `identity`, loaded from its file; none
 * when the identity is unknown (a lock that does not report one). The file and its save timer
 * go through `runtime`.
 */
export function openHostRegistry(dir: string, identity: StoredHostIdentity | undefined, logger: Logger, runtime: Runtime): HostRegistry | undefined {
  if (identity === undefined) return undefined;
  return new HostRegistry({
    self: { hostId: identity.hostId, address: identity.raftAddress, incarnation: identity.incarnation,
      former: identity.movedFrom === undefined ? [] : [identity.movedFrom] },
    file: join(dir, HOST_REGISTRY_FILE), logger, runtime,
  });
}
