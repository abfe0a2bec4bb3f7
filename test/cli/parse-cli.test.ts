// parseCli as a pure function (what each argv turns into), and the command as a process for
// what a shell sees: exit status 0 on help, 2 on usage errors, the reason on stderr.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { closestWord } from '../../src/config/did-you-mean.ts';
import { parseCli } from '../../src/cli/parse-cli.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

function usageError(argv: string[]): string {
  const command = parseCli(argv);
  assert.equal(command.kind, 'usage-error', `${argv.join(' ')} should be a usage error, got ${JSON.stringify(command)}`);
  return command.kind === 'usage-error' ? command.message : '';
}

describe('parseCli', () => {
  it('serve with and without --config, in both spellings', () => {
    assert.deepEqual(parseCli(['serve']), { kind: 'run', name: 'serve', args: {} });
    assert.deepEqual(parseCli(['serve', '--config', 'w.yml']), { kind: 'run', name: 'serve', args: { configFile: 'w.yml' } });
    assert.deepEqual(parseCli(['serve', '--config=w.yml']), { kind: 'run', name: 'serve', args: { configFile: 'w.yml' } });
    // A value that looks like an option is taken only when said with "=".
    assert.deepEqual(parseCli(['serve', '--config=--odd.yml']), { kind: 'run', name: 'serve', args: { configFile: '--odd.yml' } });
  });

  it('a missing value is an error, not a start with defaults', () => {
    assert.equal(usageError(['serve', '--config']), 'warren serve: --config needs a value');
    assert.equal(usageError(['serve', '--config', '--help-me']), 'warren serve: --config needs a value (got the option --help-me)');
  });

  it('unknown options, commands and stray words are errors, with "did you mean"', () => {
    assert.equal(usageError(['serve', '--confg', 'w.yml']), 'warren serve: unknown option --confg (did you mean --config?)');
    assert.equal(usageError(['serve', '--verbose']), 'warren serve: unknown option --verbose');
    assert.equal(usageError(['serve', 'extra']), 'warren serve: unexpected argument "extra"');
    assert.equal(usageError(['serv']), 'unknown command "serv" (did you mean serve?)');
    assert.equal(usageError(['laeks']), 'unknown command "laeks" (did you mean leaks?)');
    assert.equal(usageError(['frobnicate']), 'unknown command "frobnicate"');
    assert.equal(usageError(['--verison']), 'unknown option --verison (did you mean --version?)');
    assert.equal(usageError(['leaks', '--pid', 'self', '--jsn']), 'warren leaks: unknown option --jsn (did you mean --json?)');
    assert.equal(usageError(['leaks', '--pid', 'self', '--json=yes']), 'warren leaks: --json takes no value');
  });

  it('leaks: values are checked and defaults filled in', () => {
    assert.deepEqual(parseCli(['leaks', '--pid', '42', '--port', '15672', '--json']), {
      kind: 'run',
      name: 'leaks',
      args: { help: false, json: true, pid: 42, port: '15672', samples: 3, intervalMs: 500 },
    });
    const watching = parseCli(['leaks', '--pid', 'self', '--watch', '--count', '3']);
    assert.equal(watching.kind === 'run' && watching.name === 'leaks' && watching.args.watchSeconds, 2, '--watch alone means every 2 s');
    const every5 = parseCli(['leaks', '--pid', 'self', '--watch', '5']);
    assert.equal(every5.kind === 'run' && every5.name === 'leaks' && every5.args.watchSeconds, 5);
    assert.equal(usageError(['leaks']), 'warren leaks: --pid is required (a number, or "self")');
    assert.equal(usageError(['leaks', '--pid']), 'warren leaks: --pid needs a value');
    assert.equal(usageError(['leaks', '--pid', 'x']), 'warren leaks: --pid needs an integer ≥ 1, got x');
    assert.equal(usageError(['leaks', '--pid', 'self', '--count', '2']), 'warren leaks: --count only applies with --watch');
  });

  it('help: top level, per command, and -h anywhere after a command', () => {
    const top = parseCli(['--help']);
    assert.equal(top.kind, 'help');
    assert.ok(top.kind === 'help' && top.exitCode === 0 && /warren serve \[--config FILE\]/.test(top.text) && /warren leaks/.test(top.text));
    const bare = parseCli([]);
    assert.ok(bare.kind === 'help' && bare.exitCode === 2, 'no command: help, but a failing status');
    for (const argv of [['serve', '-h'], ['serve', '--confg', '--help'], ['help', 'serve']]) {
      const help = parseCli(argv);
      assert.ok(help.kind === 'help' && help.exitCode === 0 && help.text.startsWith('Usage: warren serve'), argv.join(' '));
    }
    const leaks = parseCli(['leaks', '-h']);
    assert.ok(leaks.kind === 'help' && leaks.text.startsWith('Usage: warren leaks --pid'));
    assert.equal(usageError(['help', 'nope']), 'unknown command "nope"');
    assert.deepEqual(parseCli(['--version']), { kind: 'version' });
  });

  it('suggests only what is close', () => {
    assert.equal(closestWord('--conifg', ['--config', '--help']), '--config');
    assert.equal(closestWord('--co', ['--config', '--count']), undefined, 'an ambiguous prefix suggests nothing');
    assert.equal(closestWord('--cou', ['--config', '--count']), '--count');
    assert.equal(closestWord('xyz', ['serve', 'leaks']), undefined);
  });
});

describe('warren as a process', () => {
  const warren = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/warren.ts', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });

  it('exits 0 on --help and --version, 2 on a usage error with the reason and the usage on stderr', () => {
    const help = warren('--help');
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /^warren: a multi-tenant RabbitMQ service broker/);
    const version = warren('--version');
    assert.equal(version.status, 0);
    assert.equal(version.stdout.trim(), JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')).version);
    const bad = warren('serve', '--config');
    assert.equal(bad.status, 2);
    assert.equal(bad.stdout, '');
    assert.match(bad.stderr, /^warren serve: --config needs a value\n\nUsage: warren serve/);
    const typo = warren('serv');
    assert.equal(typo.status, 2);
    assert.match(typo.stderr, /^warren: unknown command "serv" \(did you mean serve\?\)/);
  });
});
