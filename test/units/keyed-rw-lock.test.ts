import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KeyedRwLock } from '../../src/broker/keyed-rw-lock.ts';

const tick = () => new Promise((r) => setImmediate(r));

describe('KeyedRwLock', () => {
  it('runs readers of one key together and writers alone', async () => {
    const lock = new KeyedRwLock();
    const events: string[] = [];
    let releaseReaders!: () => void;
    const readersMayEnd = new Promise<void>((r) => (releaseReaders = r));
    const r1 = lock.with('k', false, async () => { events.push('r1 in'); await readersMayEnd; events.push('r1 out'); });
    const r2 = lock.with('k', false, async () => { events.push('r2 in'); await readersMayEnd; events.push('r2 out'); });
    const w = lock.with('k', true, async () => { events.push('w'); });
    // A reader arriving after a waiting writer queues behind it (no writer starvation).
    const r3 = lock.with('k', false, async () => { events.push('r3'); });
    await tick();
    assert.deepEqual(events, ['r1 in', 'r2 in']);
    releaseReaders();
    await Promise.all([r1, r2, w, r3]);
    assert.deepEqual(events.slice(2), ['r1 out', 'r2 out', 'w', 'r3']);
    assert.equal(lock.busy('k'), false, 'the key is forgotten once free');
  });

  it('keeps keys independent and releases on failure', async () => {
    const lock = new KeyedRwLock();
    await assert.rejects(lock.with('a', true, async () => { throw new Error('boom'); }), /boom/);
    let ran = false;
    await Promise.all([lock.with('a', true, async () => { ran = true; }), lock.with('b', true, async () => undefined)]);
    assert.equal(ran, true);
    assert.equal(lock.busy('a'), false);
  });
});
