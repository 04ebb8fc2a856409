/** The host's address book tells its transport of new and changed addresses only, and of removals. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AddressBook } from '../../src/host/address-book.js';

test('an address given again is not passed on; a changed one and a removal are', () => {
  const calls: string[] = [];
  const transport = {
    setAddress: (s: number, r: number, a: string): void => { calls.push(`set ${s}/${r} ${a}`); },
    removeAddress: (s: number, r: number): void => { calls.push(`remove ${s}/${r}`); },
  };
  const book = new AddressBook(() => transport);
  assert.equal(book.knows(1, 2), false);
  book.set(1, 2, '10.0.0.1:7000');
  book.set(1, 2, '10.0.0.1:7000');
  book.set(2, 2, '10.0.0.1:7000');
  assert.equal(book.knows(1, 2), true);
  book.set(1, 2, '10.0.0.9:7000');
  book.remove(1, 2);
  assert.equal(book.knows(1, 2), false);
  book.set(1, 2, '10.0.0.9:7000');
  assert.deepEqual(calls, ['set 1/2 10.0.0.1:7000', 'set 2/2 10.0.0.1:7000', 'set 1/2 10.0.0.9:7000', 'remove 1/2', 'set 1/2 10.0.0.9:7000']);
});
