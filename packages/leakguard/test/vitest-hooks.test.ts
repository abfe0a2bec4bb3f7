// The Jest/Vitest hooks under a real Vitest: a clean spec passes, a leaky one fails with the
// leak named (fd growth by kind; growth per round).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { PACKAGE_ROOT, childEnv } from './helpers.ts';

const VITEST = fileURLToPath(new URL('../../../node_modules/vitest/vitest.mjs', import.meta.url));

function vitest(spec: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const env = childEnv({ NO_COLOR: '1', CI: '1' });
    delete env.NODE_OPTIONS;
    execFile(process.execPath, [VITEST, 'run', `test/vitest/${spec}`, '--root', PACKAGE_ROOT], { cwd: PACKAGE_ROOT, env, timeout: 90_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, output: stdout + stderr }),
    );
  });
}

describe('under vitest', { timeout: 120_000 }, () => {
  test('a clean spec passes', async () => {
    const { code, output } = await vitest('clean.spec.ts');
    assert.equal(code, 0, output);
    assert.match(output, /2 passed/);
  });

  test('a leaky spec fails, naming the leak', async () => {
    const { code, output } = await vitest('leaky.spec.ts');
    assert.equal(code, 1, output);
    assert.match(output, /LeakError: leak guard: pid \d+ still leaks after settling/);
    assert.match(output, /fd growth \+1 \(file \+1\) over the baseline, allowed \+0/);
    assert.match(output, /GrowthError: leak guard: pid \d+ keeps growing over 6 rounds/);
  });
});
