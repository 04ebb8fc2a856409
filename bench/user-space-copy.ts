/**
 * The reference a snapshot stream is measured against (issue 19): a copy of a file through user
 * space — read a 2 MiB chunk, write it, one buffer — and an fsync of the copy. `copyFile` is not
 * the reference: it uses the kernel's copy_file_range, which no network stream can.
 */
import * as fsp from 'node:fs/promises';

/** Bytes read and written per step of {@link userSpaceCopy}. */
export const COPY_CHUNK = 2 * 1024 * 1024;

/** Copies `src` to `dst` through user space and fsyncs the copy. */
export async function userSpaceCopy(src: string, dst: string): Promise<void> {
  const buf = Buffer.allocUnsafe(COPY_CHUNK);
  const from = await fsp.open(src, 'r');
  const to = await fsp.open(dst, 'w');
  try {
    for (let pos = 0; ;) {
      const { bytesRead } = await from.read(buf, 0, COPY_CHUNK, pos);
      if (bytesRead === 0) break;
      for (let done = 0; done < bytesRead;) done += (await to.write(buf, done, bytesRead - done, pos + done)).bytesWritten;
      pos += bytesRead;
    }
    await to.sync();
  } finally {
    await from.close();
    await to.close();
  }
}
