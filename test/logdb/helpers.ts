/** Shared helpers of the LogDB tests: temporary directories and a seeded random source. */
import * as fs from 'node:fs';
import * as path from 'node:path';

import { tempDirFor, removeDir, seeded } from '../support/temp.js';

/** A fresh directory under the OS temp dir. */
export function tempDir(tag: string): string {
  return tempDirFor('logdb', tag);
}

export { removeDir, seeded };

/** Names of the WAL segment files in `dir`, in log order. */
export function segmentFiles(dir: string): string[] {
  return fs.readdirSync(dir).filter((n) => n.endsWith('.wal')).sort().map((n) => path.join(dir, n));
}
