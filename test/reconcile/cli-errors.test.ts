// `warren reconcile` exits 2, with a message on stderr, whenever it cannot tell: no store where
// the configuration says, a bad option, RabbitMQ unreachable.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startWarrenProcess } from '../../testkit/warren-process.ts';
import { runReconcile } from './helpers.ts';

describe('warren reconcile errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warren-rc-err-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses to scan a store that does not exist (a new empty one would find nothing)', async () => {
    const r = await runReconcile([], { WARREN_DATA_DIR: join(dir, 'nowhere') });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no store at .*nowhere\/warren\.db/);
    assert.equal(r.stdout, '');
  });

  it('rejects unknown options and --adopt without --plan', async () => {
    const bad = await runReconcile(['--frobnicate'], { WARREN_DATA_DIR: dir });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /warren reconcile: unknown option --frobnicate/);
    const adopt = await runReconcile(['--adopt'], { WARREN_DATA_DIR: dir });
    assert.equal(adopt.code, 2);
    assert.match(adopt.stderr, /--adopt needs --plan/);
  });

  it('exits 2 when RabbitMQ does not answer, without credentials in the message', async () => {
    const data = join(dir, 'store');
    const w = await startWarrenProcess({ dataDir: data });
    await w.stop({ keepData: true });
    // A port nothing listens on.
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const r = await runReconcile([], { WARREN_DATA_DIR: data, WARREN_MANAGEMENT_URLS: `http://admin:s3cret-pw@127.0.0.1:${port}` });
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /^warren reconcile: /);
    assert.doesNotMatch(r.stderr + r.stdout, /s3cret-pw/);
  });
});
