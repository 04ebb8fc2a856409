/** The injectable runtime: see {@link Runtime}. */
export type { Runtime, Clock, Timers, TimerHandle, RandomSource, ProcessInfo } from './runtime.js';
export type { FileSystem, FileSystemPromises, FileHandle, FileStats, DirEntry, FsCallbackError, ReadResult, WriteResult } from './file-system.js';
export { realRuntime, realFileSystem } from './real-runtime.js';
export { openFd, closeFd, writeFd, fsyncFd, fdatasyncFd } from './fd-calls.js';
export { sleep } from './sleep.js';
