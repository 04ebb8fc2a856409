/**
 * Validation of a {@link Runtime} given in `NodeHostConfig.runtime`: every member the host
 * calls is present, so that a half-built runtime fails at `NodeHost.create` naming the missing
 * member rather than later, inside a timer or a WAL write.
 */
import { InvalidOptionError } from '../errors.js';
import type { Runtime } from '../runtime/index.js';

/** The functions each part of a runtime must have. */
const MEMBERS: Readonly<Record<Exclude<keyof Runtime, 'fs'>, readonly string[]>> = {
  clock: ['now', 'wallNow'],
  timers: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate'],
  random: ['int', 'float', 'bytes'],
  process: ['isAlive'],
};

/** The file system calls checked (the promise-style ones under `promises`). */
const FS_CALLS = ['open', 'close', 'write', 'fsync', 'fdatasync', 'openSync', 'closeSync', 'readSync', 'writeSync', 'fsyncSync', 'fdatasyncSync', 'ftruncateSync',
  'statSync', 'readdirSync', 'mkdirSync', 'existsSync', 'unlinkSync', 'rmSync', 'rmdirSync', 'renameSync', 'readFileSync', 'writeFileSync'];
const FS_PROMISES = ['open', 'readFile', 'writeFile', 'stat', 'readdir', 'mkdir', 'rename', 'rm', 'unlink', 'link', 'copyFile'];

function requireFunctions(where: string, o: unknown, names: readonly string[]): void {
  if (typeof o !== 'object' || o === null) throw new InvalidOptionError(`runtime.${where} must be an object`);
  for (const n of names) {
    if (typeof (o as Record<string, unknown>)[n] !== 'function') throw new InvalidOptionError(`runtime.${where}.${n} must be a function`);
  }
}

/**
 * Returns `r` when it has every member a NodeHost uses.
 * @throws InvalidOptionError naming the first missing or mistyped member.
 */
export function checkRuntime(r: Runtime): Runtime {
  if (typeof r !== 'object' || r === null) throw new InvalidOptionError('runtime must be an object (a Runtime; see src/runtime)');
  for (const [part, names] of Object.entries(MEMBERS)) requireFunctions(part, (r as unknown as Record<string, unknown>)[part], names);
  if (!Number.isSafeInteger(r.process.pid) || r.process.pid <= 0) throw new InvalidOptionError('runtime.process.pid must be a positive integer');
  requireFunctions('fs', r.fs, FS_CALLS);
  requireFunctions('fs.promises', r.fs.promises, FS_PROMISES);
  return r;
}
