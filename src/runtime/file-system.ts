/**
 * The file system calls sampan's storage layers make (the WAL, the snapshotter, the directory
 * lock, the host registry, snapshot streaming), as one interface with Node's own signatures, so
 * that the real implementation is `node:fs` itself (no wrapper, no cost) and a simulator or a
 * fault-injecting test can supply another. Paths are strings; descriptors are numbers.
 *
 * Errors follow Node's: a rejected promise or a thrown `Error` carrying an errno `code`
 * (`ENOENT`, `EEXIST`, `EIO`, `ENOSPC`, ...). Callers wrap them in typed sampan errors.
 */

/** What `stat` reports that sampan reads. */
export interface FileStats {
  readonly size: number;
  isDirectory(): boolean;
  isFile(): boolean;
}

/** A directory entry with its kind (`readdir` with `withFileTypes`). */
export interface DirEntry {
  readonly name: string;
  isDirectory(): boolean;
  isFile(): boolean;
}

/** An open file, promise style (the subset of `fs.promises.FileHandle` sampan uses). */
export interface FileHandle {
  /** The descriptor (usable with the descriptor calls of {@link FileSystem}). */
  readonly fd: number;
  read(buffer: Uint8Array, offset: number, length: number, position: number | null): Promise<{ bytesRead: number }>;
  write(buffer: Uint8Array, offset: number, length: number, position: number | null): Promise<{ bytesWritten: number }>;
  writev(buffers: readonly Uint8Array[], position?: number): Promise<{ bytesWritten: number }>;
  /** Writes the whole buffer from the current position (a fresh handle: from 0). */
  writeFile(data: Uint8Array | string): Promise<void>;
  stat(): Promise<FileStats>;
  truncate(len: number): Promise<void>;
  /** fsync: data and metadata. */
  sync(): Promise<void>;
  /** fdatasync: data (and the size when it grew). */
  datasync(): Promise<void>;
  close(): Promise<void>;
}

/** Promise-style path calls (the subset of `fs.promises` sampan uses). */
export interface FileSystemPromises {
  open(path: string, flags: string, mode?: number): Promise<FileHandle>;
  readFile(path: string): Promise<Buffer>;
  readFile(path: string, encoding: 'utf8'): Promise<string>;
  writeFile(path: string, data: Uint8Array | string): Promise<void>;
  stat(path: string): Promise<FileStats>;
  readdir(path: string): Promise<string[]>;
  readdir(path: string, options: { withFileTypes: true }): Promise<DirEntry[]>;
  mkdir(path: string, options?: { recursive?: boolean }): Promise<string | undefined>;
  rename(from: string, to: string): Promise<void>;
  rm(path: string, options?: { recursive?: boolean; force?: boolean }): Promise<void>;
  unlink(path: string): Promise<void>;
  link(existing: string, newPath: string): Promise<void>;
  /** `mode` is 0 or `COPYFILE_EXCL` (1). */
  copyFile(from: string, to: string, mode?: number): Promise<void>;
}

/**
 * The file system: synchronous calls (recovery at start, the WAL's small writes and idle
 * syncs, the directory lock), callback-free descriptor calls as promises, and the path calls
 * under `promises`. `node:fs` satisfies it as it is (see `realFileSystem`).
 */
export interface FileSystem {
  openSync(path: string, flags: string, mode?: number): number;
  closeSync(fd: number): void;
  readSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number | null): number;
  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number | null): number;
  fsyncSync(fd: number): void;
  fdatasyncSync(fd: number): void;
  ftruncateSync(fd: number, len: number): void;
  statSync(path: string): FileStats;
  readdirSync(path: string): string[];
  mkdirSync(path: string, options?: { recursive?: boolean }): string | undefined;
  existsSync(path: string): boolean;
  unlinkSync(path: string): void;
  renameSync(from: string, to: string): void;
  readFileSync(path: string): Buffer;
  readFileSync(path: string, encoding: 'utf8'): string;
  writeFileSync(pathOrFd: string | number, data: Uint8Array | string): void;
  readonly promises: FileSystemPromises;
}
