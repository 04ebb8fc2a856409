/**
 * The fault-injecting file system (a testing aid): rules fail the operations and paths they
 * name with the errno they name, once or until disarmed, and byte flips change what is read
 * (never what is on disk).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { FaultFileSystem } from '../../src/runtime/fault-fs.js';
import { realFileSystem } from '../../src/runtime/real-runtime.js';
import { tempDirFor } from '../support/temp.js';

const dir = tempDirFor('runtime', 'faultfs');
after(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('FaultFileSystem', () => {
  it('passes calls through while no rule is armed', async () => {
    const f = new FaultFileSystem(realFileSystem);
    const p = path.join(dir, 'plain');
    const fd = f.openSync(p, 'w+');
    f.writeSync(fd, Buffer.from('hello'), 0, 5, 0);
    f.fdatasyncSync(fd);
    f.closeSync(fd);
    assert.equal(f.readFileSync(p, 'utf8'), 'hello');
    const h = await f.promises.open(p, 'r+');
    await h.sync();
    await h.close();
    assert.equal(await f.promises.readFile(p, 'utf8'), 'hello');
  });

  it('fails fdatasync on matching paths with the errno, until disarmed', () => {
    const f = new FaultFileSystem(realFileSystem);
    const a = path.join(dir, 'a.log'), b = path.join(dir, 'b.dat');
    const fault = f.fail({ ops: ['fdatasync'], path: (p) => p.endsWith('.log'), errno: 'EIO' });
    const fa = f.openSync(a, 'w'), fb = f.openSync(b, 'w');
    for (let i = 0; i < 2; i++) {
      assert.throws(() => f.fdatasyncSync(fa), (e: NodeJS.ErrnoException) => e.code === 'EIO' && e.path === a && e.syscall === 'fdatasync');
    }
    f.fdatasyncSync(fb); // another path
    f.fsyncSync(fa); // another op
    assert.equal(fault.hits, 2);
    fault.disarm();
    assert.equal(fault.armed, false);
    f.fdatasyncSync(fa);
    f.closeSync(fa);
    f.closeSync(fb);
  });

  it('a once rule fails one call, then disarms itself', () => {
    const f = new FaultFileSystem(realFileSystem);
    const p = path.join(dir, 'once');
    const fault = f.fail({ ops: ['write'], errno: 'ENOSPC', once: true });
    const fd = f.openSync(p, 'w');
    assert.throws(() => f.writeSync(fd, Buffer.from('x'), 0, 1, 0), { code: 'ENOSPC' });
    assert.equal(fs.statSync(p).size, 0, 'nothing was written');
    assert.equal(f.writeSync(fd, Buffer.from('x'), 0, 1, 0), 1);
    assert.equal(fault.armed, false);
    assert.equal(fault.hits, 1);
    f.closeSync(fd);
  });

  it('fails promise calls: handle sync, rename (either side), mkdir, open', async () => {
    const f = new FaultFileSystem(realFileSystem);
    const p = path.join(dir, 'snap.tmp');
    f.fail({ ops: ['fsync', 'rename', 'mkdir', 'open'], path: (x) => x.includes('snap'), errno: 'EIO' });
    await assert.rejects(f.promises.open(p, 'w'), { code: 'EIO', syscall: 'open' });
    await assert.rejects(f.promises.rename(path.join(dir, 'plain'), p), { code: 'EIO', path: p });
    await assert.rejects(f.promises.mkdir(path.join(dir, 'snapdir')), { code: 'EIO' });
    f.disarmAll();
    const h = await f.promises.open(p, 'w');
    f.fail({ ops: ['fsync'], errno: 'ENOSPC' });
    await assert.rejects(h.sync(), { code: 'ENOSPC' });
    await h.close();
  });

  it('flips a byte on read, leaving the file as it is', async () => {
    const f = new FaultFileSystem(realFileSystem);
    const p = path.join(dir, 'flip');
    fs.writeFileSync(p, Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]));
    const flip = f.flip({ path: (x) => x === p, offset: 5 });
    const fd = f.openSync(p, 'r');
    const buf = Buffer.alloc(4);
    f.readSync(fd, buf, 0, 4, 4);
    assert.deepEqual([...buf], [5, 6 ^ 0xff, 7, 8]);
    f.readSync(fd, buf, 0, 4, 0);
    assert.deepEqual([...buf], [1, 2, 3, 4], 'a read not covering the offset is clean');
    f.closeSync(fd);
    assert.equal(f.readFileSync(p)[5], 6 ^ 0xff);
    const h = await f.promises.open(p, 'r');
    const b2 = Buffer.alloc(8);
    await h.read(b2, 0, 8, 0);
    await h.close();
    assert.equal(b2[5], 6 ^ 0xff);
    f.flip({ path: (x) => x === p, offset: (_x, size) => size - 1, mask: 0x01 });
    assert.equal((await f.promises.readFile(p))[7], 8 ^ 0x01);
    assert.equal(flip.hits, 4);
    f.disarmAll();
    assert.deepEqual([...f.readFileSync(p)], [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual([...fs.readFileSync(p)], [1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('fails the callback-style descriptor calls through their callback, never by throwing', async () => {
    const f = new FaultFileSystem(realFileSystem);
    const p = path.join(dir, 'cb.wal');
    const fd = await new Promise<number>((res, rej) => f.open(p, 'w', (e, n) => { if (e) rej(e); else res(n); }));
    f.fail({ ops: ['write', 'fdatasync'], path: (x) => x.endsWith('.wal'), errno: 'EIO' });
    const written = await new Promise<[unknown, number]>((res) => f.write(fd, Buffer.from('abc'), 0, 3, 0, (e, n) => res([e, n])));
    assert.equal((written[0] as NodeJS.ErrnoException).code, 'EIO');
    assert.equal(written[1], 0);
    const synced = await new Promise<unknown>((res) => f.fdatasync(fd, res));
    assert.equal((synced as NodeJS.ErrnoException).code, 'EIO');
    f.disarmAll();
    await new Promise<void>((res, rej) => f.fdatasync(fd, (e) => { if (e) rej(e); else res(); }));
    await new Promise<void>((res, rej) => f.close(fd, (e) => { if (e) rej(e); else res(); }));
    assert.equal(fs.statSync(p).size, 0);
  });
});
