/** Shared test helpers: temporary directories and a seeded random source. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** A fresh directory under the OS temp dir, named `sampan-<area>-<tag>-…`. */
export function tempDirFor(area: string, tag: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `sampan-${area}-${tag}-`));
}

/** Removes a directory tree, ignoring errors. */
export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** A small seeded PRNG (mulberry32), so failures replay from their seed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
