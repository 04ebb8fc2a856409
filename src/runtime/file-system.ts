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
  /** Size in bytes. */
  readonly size: number;
  /** Whether it is a directory. */
  isDirectory(): boolean;
  /** Whether it is a regular file. */
  isFile(): boolean;
}

/** A directory entry with its kind (`readdir` with `withFileTypes`). */
export interface DirEntry {
  /** The entry's name (no directory part). */
  readonly name: string;
  /** Whether it is a directory. */
  isDirectory(): boolean;
  /** Whether it is a regular file. */
  isFile(): boolean;
}

/** What a handle's `read` resolves with. */
export interface ReadResult {
  /** Bytes read (0 at the end of the file). */
  readonly bytesRead: number;
}

/** What a handle's `write` and `writev` resolve with. */
export interface WriteResult {
  /** Bytes written. */
  readonly bytesWritten: number;
}

/** An open file, promise style (the subset of `fs.promises.FileHandle` sampan uses). */
export interface FileHandle {
  /** The descriptor (usable with the descriptor calls of {@link FileSystem}). */
  readonly fd: number;
  /** Reads up to `length` bytes into `buffer` at `offset`, from `position` (null: the current position). */
  read(buffer: Uint8Array, offset: number, length: number, position: number | null): Promise<ReadResult>;
  /** Writes `length` bytes of `buffer` from `offset`, at `position` (null: the current position). */
  write(buffer: Uint8Array, offset: number, length: number, position: number | null): Promise<WriteResult>;
  /** Writes the buffers in order, at `position` (absent: the current position). */
  writev(buffers: readonly Uint8Array[], position?: number): Promise<WriteResult>;
  /** Writes the whole buffer from the current position (a fresh handle: from 0). */
  writeFile(data: Uint8Array | string): Promise<void>;
  /** The file's size and kind. */
  stat(): Promise<FileStats>;
  /** Sets the file's size to `len` bytes. */
  truncate(len: number): Promise<void>;
  /** fsync: data and metadata. */
  sync(): Promise<void>;
  /** fdatasync: data (and the size when it grew). */
  datasync(): Promise<void>;
  /** Closes the descriptor. */
  close(): Promise<void>;
}

/** Promise-style path calls (the subset of `fs.promises` sampan uses). */
export interface FileSystemPromises {
  /** Opens a file (`flags` as Node's: 'r', 'w', 'wx', 'a+', ...). */
  open(path: string, flags: string, mode?: number): Promise<FileHandle>;
  /** The whole file's bytes. */
  readFile(path: string): Promise<Buffer>;
  /** The whole file as UTF-8 text. */
  readFile(path: string, encoding: 'utf8'): Promise<string>;
  /** Creates or replaces the file with `data` (not synced). */
  writeFile(path: string, data: Uint8Array | string): Promise<void>;
  /** The size and kind of what `path` names. */
  stat(path: string): Promise<FileStats>;
  /** The names in a directory. */
  readdir(path: string): Promise<string[]>;
  /** The entries of a directory with their kinds. */
  readdir(path: string, options: { withFileTypes: true }): Promise<DirEntry[]>;
  /** Creates a directory (`recursive`: with its parents, no error if it exists). */
  mkdir(path: string, options?: { recursive?: boolean }): Promise<string | undefined>;
  /** Renames atomically, replacing `to`. */
  rename(from: string, to: string): Promise<void>;
  /** Removes a file or (`recursive`) a tree; `force`: no error when absent. */
  rm(path: string, options?: { recursive?: boolean; force?: boolean }): Promise<void>;
  /** Removes a file. */
  unlink(path: string): Promise<void>;
  /** Makes a hard link. */
  link(existing: string, newPath: string): Promise<void>;
  /** `mode` is 0 or `COPYFILE_EXCL` (1). */
  copyFile(from: string, to: string, mode?: number): Promise<void>;
}

/** The error a callback-style call reports (Node's `ErrnoException`: `code` such as `ENOENT`). */
export type FsCallbackError = Error | null;

/**
 * The file system: synchronous calls (recovery at start, the WAL's small writes and idle
 * syncs, the directory lock), callback-style descriptor calls (the WAL's large writes and busy
 * syncs, off the event loop; `fd-calls.ts` wraps them in promises), and the path calls under
 * `promises`. `node:fs` satisfies it as it is (see `realFileSystem`).
 */
export interface FileSystem {
  /** Opens a file on the thread pool; `cb` gets its descriptor. */
  open(path: string, flags: string, cb: (err: FsCallbackError, fd: number) => void): void;
  /** Closes a descriptor on the thread pool. */
  close(fd: number, cb: (err: FsCallbackError) => void): void;
  /** Writes `length` bytes of `buffer` from `offset` at `position` on the thread pool; `cb` gets the count written. */
  write(fd: number, buffer: Uint8Array, offset: number, length: number, position: number | null,
    cb: (err: FsCallbackError, written: number) => void): void;
  /** fsync on the thread pool. */
  fsync(fd: number, cb: (err: FsCallbackError) => void): void;
  /** fdatasync on the thread pool. */
  fdatasync(fd: number, cb: (err: FsCallbackError) => void): void;
  /** Opens a file; returns its descriptor. */
  openSync(path: string, flags: string, mode?: number): number;
  /** Closes a descriptor. */
  closeSync(fd: number): void;
  /** Reads up to `length` bytes into `buffer` at `offset` from `position`; returns the count read. */
  readSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number | null): number;
  /** Writes `length` bytes of `buffer` from `offset` at `position`; returns the count written. */
  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number | null): number;
  /** fsync: data and metadata. */
  fsyncSync(fd: number): void;
  /** fdatasync: data (and the size when it grew). */
  fdatasyncSync(fd: number): void;
  /** Sets the file's size to `len` bytes. */
  ftruncateSync(fd: number, len: number): void;
  /** The size and kind of what `path` names. */
  statSync(path: string): FileStats;
  /** The names in a directory. */
  readdirSync(path: string): string[];
  /** Creates a directory (`recursive`: with its parents, no error if it exists). */
  mkdirSync(path: string, options?: { recursive?: boolean }): string | undefined;
  /** Whether `path` exists. */
  existsSync(path: string): boolean;
  /** Removes a file. */
  unlinkSync(path: string): void;
  /** Removes a file or (`recursive`) a tree; `force`: no error when absent. */
  rmSync(path: string, options?: { recursive?: boolean; force?: boolean }): void;
  /** Removes an empty directory. */
  rmdirSync(path: string): void;
  /** Renames atomically, replacing `to`. */
  renameSync(from: string, to: string): void;
  /** The whole file's bytes. */
  readFileSync(path: string): Buffer;
  /** The whole file as UTF-8 text. */
  readFileSync(path: string, encoding: 'utf8'): string;
  /** Creates or replaces the file (or writes to the descriptor) with `data` (not synced). */
  writeFileSync(pathOrFd: string | number, data: Uint8Array | string): void;
  /** The promise-style path calls. */
  readonly promises: FileSystemPromises;
}
