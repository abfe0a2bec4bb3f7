// The SQLite store serves one process: a second warren on the same data dir must refuse to start
// (naming the holder's pid and pointing to PostgreSQL for replicas) instead of running its own
// locks beside the first. A holder killed with -9 leaves a stale lock that the next start takes
// over; a holder stopped with SIGTERM releases it.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { instancePath, provisionBody, ids, SMALL_PLAN_ID, RabbitAdmin, uid } from '../broker/helpers.ts';
import { OsbClient } from '../../testkit/osb-client.ts';
import { startWarrenProcess, type WarrenProcess } from '../../testkit/warren-process.ts';
import { retrying } from './helpers/retrying.ts';

describe('replicas: two warren processes on one SQLite data dir', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'warren-sqlite-lock-'));
  const started: WarrenProcess[] = [];
  const rmq = new RabbitAdmin();
  const prefix = `${uid('rsqlite')}-`;
  const start = async (): Promise<WarrenProcess> => {
    const w = await startWarrenProcess({ dataDir, timeoutMs: 20_000 });
    started.push(w);
    return w;
  };
  const refusal = async (): Promise<string> => {
    try {
      started.push(await startWarrenProcess({ dataDir, timeoutMs: 20_000 }));
    } catch (err) {
      return (err as Error).message;
    }
    assert.fail('a second warren started on a data dir another warren serves');
  };
  after(async () => {
    for (const w of started) await w.stop({ keepData: true });
    await retrying(() => rmq.purgePrefix(prefix));
    await rmq.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('the second process refuses to start and names the holder; the first keeps serving', async () => {
    const first = await start();
    const why = await refusal();
    assert.match(why, new RegExp(`\\b${first.pid}\\b`), `the refusal names the holder's pid ${first.pid}: ${why}`);
    assert.match(why, /postgres/i, `the refusal points to PostgreSQL for replicas: ${why}`);
    assert.match(why, /\d{4}-\d\d-\d\dT\d\d:\d\d/, `the refusal says when the holder started: ${why}`);
    assert.doesNotMatch(why, /warren is listening/, 'the second process never listened');
    // The first is untouched by the attempt.
    const osb = new OsbClient({ url: first.url, username: first.username, password: first.password });
    const id = `${prefix}i`;
    const made = await osb.call('PUT', instancePath(id), { body: provisionBody(SMALL_PLAN_ID) });
    assert.equal(made.status, 201, made.text);
    assert.equal((await osb.call('DELETE', `${instancePath(id)}?${ids(SMALL_PLAN_ID)}`)).status, 200);
    await osb.close();
  });

  it('after the holder is killed with -9, the next process takes the stale lock over', async () => {
    const holder = started.find((w) => w.child.exitCode === null && w.child.signalCode === null) ?? (await start());
    const gone = new Promise((resolve) => holder.child.once('exit', resolve));
    holder.child.kill('SIGKILL');
    await gone;
    const next = await start();
    const why = await refusal();
    assert.match(why, new RegExp(`\\b${next.pid}\\b`), `the refusal names the new holder ${next.pid}: ${why}`);
  });

  it('after the holder stops with SIGTERM, the next process starts at once', async () => {
    const holder = started.find((w) => w.child.exitCode === null && w.child.signalCode === null) ?? (await start());
    assert.equal(await holder.stop({ keepData: true }), 0);
    const next = await start();
    assert.ok(next.pid > 0);
  });
});
