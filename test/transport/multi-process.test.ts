// Hosts in separate processes on loopback: round trips, and a host that is killed and returns.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { SeededRandom } from '../../src/core/random.js';
import { MessageType } from '../../src/core/types.js';
import { TcpTransport } from '../../src/transport/tcp-transport.js';
import { Recorder, heartbeat, waitFor } from './helpers.js';

const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'echo-host.js');

const children = new Set<ChildProcess>();
function spawnHost(port = 0): Promise<{ child: ChildProcess; address: string }> {
  const child = spawn(process.execPath, [fixture, String(port), '9'], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('child did not start')), 10000);
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      resolve({ child, address: (JSON.parse(buf.slice(0, nl)) as { address: string }).address });
    });
    child.once('exit', (code) => reject(new Error(`child exited with ${code}`)));
  });
}

describe('hosts in separate processes', () => {
  const rec = new Recorder();
  const me = new TcpTransport({
    listenAddress: '127.0.0.1:0', deploymentId: 9, handler: rec, backoffInitialMs: 50, backoffMaxMs: 200, random: new SeededRandom(4),
  });
  after(async () => {
    for (const c of children) c.kill('SIGKILL');
    await me.close();
  });

  const replies = (replica: number, hint: number): boolean =>
    rec.messages.some((m) => m.type === MessageType.HeartbeatResp && m.from === replica && m.hint === hint);

  it('exchanges messages with two child hosts, and survives one being killed and restarted', async () => {
    await me.start();
    const [h2, h3] = await Promise.all([spawnHost(), spawnHost()]);
    me.setAddress(1, 2, h2.address);
    me.setAddress(1, 3, h3.address);
    for (let i = 1; i <= 50; i++) {
      me.send(heartbeat(1, 1, 2, i));
      me.send(heartbeat(1, 1, 3, i));
    }
    await waitFor(() => replies(2, 50) && replies(3, 50), 'replies from both children', 10000);

    h2.child.kill('SIGKILL');
    let hint = 100;
    await waitFor(() => {
      me.send(heartbeat(1, 1, 2, ++hint));
      me.send(heartbeat(1, 1, 3, hint));
      return rec.unreachable.some(([s, r]) => s === 1 && r === 2);
    }, 'unreachable for the killed host', 10000);
    assert.ok(!rec.unreachable.some(([, r]) => r === 3), 'the live host is not reported');

    const port = Number(h2.address.split(':')[1]);
    await spawnHost(port);
    const restartedAt = hint;
    await waitFor(() => {
      me.send(heartbeat(1, 1, 2, ++hint));
      return rec.messages.some((m) => m.type === MessageType.HeartbeatResp && m.from === 2 && m.hint > restartedAt);
    }, 'replies after the restart', 10000);
    assert.ok(replies(3, 101));
  });
});
