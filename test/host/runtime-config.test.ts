/**
 * NodeHostConfig.runtime: the default is the real runtime, a given one is kept as it is, and a
 * runtime missing a member the host calls is refused naming it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveHostConfig } from '../../src/host/config.js';
import { InvalidOptionError } from '../../src/errors.js';
import { realRuntime, type Runtime } from '../../src/runtime/index.js';

const base = { nodeHostDir: '/tmp/x', raftAddress: 'localhost:1' };

test('the runtime defaults to realRuntime, and a given one is kept', () => {
  assert.equal(resolveHostConfig(base).runtime, realRuntime);
  const mine: Runtime = { ...realRuntime, clock: { now: () => 1, wallNow: () => 2 } };
  assert.equal(resolveHostConfig({ ...base, runtime: mine }).runtime, mine);
});

test('a runtime missing a member is refused, naming it', () => {
  const bad = (r: unknown, field: RegExp): void => {
    assert.throws(() => resolveHostConfig({ ...base, runtime: r as Runtime }), (e: unknown) => e instanceof InvalidOptionError && field.test(e.message));
  };
  bad(null, /^runtime must be an object/);
  bad({ ...realRuntime, clock: { now: () => 0 } }, /runtime\.clock\.wallNow/);
  bad({ ...realRuntime, timers: { ...realRuntime.timers, setImmediate: undefined } }, /runtime\.timers\.setImmediate/);
  bad({ ...realRuntime, random: undefined }, /runtime\.random must be an object/);
  bad({ ...realRuntime, process: { pid: 0, isAlive: () => true } }, /runtime\.process\.pid/);
  bad({ ...realRuntime, fs: { ...realRuntime.fs, fdatasyncSync: undefined } }, /runtime\.fs\.fdatasyncSync/);
  bad({ ...realRuntime, fs: { ...realRuntime.fs, promises: { ...realRuntime.fs.promises, copyFile: 1 } } }, /runtime\.fs\.promises\.copyFile/);
});
