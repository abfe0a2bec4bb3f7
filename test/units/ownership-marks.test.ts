// The marks that prove ownership (vhost description, user tag), the password check against
// RabbitMQ's stored hash (a hash RabbitMQ 3.10.8 made for the password "pw1"), and the
// reconcile command's options.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deploymentOfUser, deploymentTag, ownsVhost, parseVhostMarker, vhostMarker } from '../../src/broker/plan-in-rabbitmq.ts';
import { parseCli } from '../../src/cli/parse-cli.ts';
import { passwordMatchesHash } from '../../src/reconcile/password-check.ts';

describe('ownership marks', () => {
  it('reads back the deployment from a vhost marker, old and new', () => {
    assert.deepEqual(parseVhostMarker(vhostMarker('i.d~1_x-y', 'dep-1')), { instanceId: 'i.d~1_x-y', deploymentId: 'dep-1' });
    assert.deepEqual(parseVhostMarker('warren service instance abc'), { instanceId: 'abc', deploymentId: null });
    for (const other of [undefined, '', 'Default virtual host', 'warren service instance ', 'warren service instance a b', 'my warren service instance a']) {
      assert.equal(parseVhostMarker(other), null, JSON.stringify(other));
    }
  });

  it('owns a vhost with its own mark or the older one for the same instance, never another deployment\'s', () => {
    assert.equal(ownsVhost(vhostMarker('i1', 'me'), 'i1', 'me'), true);
    assert.equal(ownsVhost('warren service instance i1', 'i1', 'me'), true);
    assert.equal(ownsVhost(vhostMarker('i1', 'other'), 'i1', 'me'), false);
    assert.equal(ownsVhost(vhostMarker('i2', 'me'), 'i1', 'me'), false);
    assert.equal(ownsVhost(undefined, 'i1', 'me'), false);
  });

  it('reads the deployment from user tags', () => {
    assert.equal(deploymentOfUser(['management', deploymentTag('abc')]), 'abc');
    assert.equal(deploymentOfUser(['management', 'policymaker']), null);
  });
});

describe('password check against the stored hash', () => {
  const hash = 'NeIMHv7F8TawBZR+AbJlbDMES1bpA0E+DtVjgRnyZtxfw23R';
  it('says whether the password is the one the hash was made from', () => {
    assert.equal(passwordMatchesHash('pw1', hash, 'rabbit_password_hashing_sha256'), true);
    assert.equal(passwordMatchesHash('pw2', hash, 'rabbit_password_hashing_sha256'), false);
    assert.equal(passwordMatchesHash('pw1', hash, 'rabbit_password_hashing_sha512'), false);
    assert.equal(passwordMatchesHash('pw1', '', 'rabbit_password_hashing_sha256'), false);
  });
  it('does not judge algorithms it does not know', () => {
    assert.equal(passwordMatchesHash('pw1', hash, 'rabbit_password_hashing_md5'), null);
  });
});

describe('warren reconcile options', () => {
  it('parses flags and repeated --instance', () => {
    assert.deepEqual(parseCli(['reconcile', '--adopt', '--plan', 'small', '--instance', 'a', '--instance', 'b', '--dry-run', '--json']), {
      kind: 'run', name: 'reconcile', args: { json: true, fix: false, adopt: true, plan: 'small', instances: ['a', 'b'], dryRun: true },
    });
    assert.deepEqual(parseCli(['reconcile', '--config', 'f.yml', '--fix']), {
      kind: 'run', name: 'reconcile', args: { configFile: 'f.yml', json: false, fix: true, adopt: false, instances: [], dryRun: false },
    });
  });
  it('rejects unknown options, missing values and options that do not go together', () => {
    const message = (argv: string[]) => {
      const c = parseCli(['reconcile', ...argv]);
      return c.kind === 'usage-error' ? c.message : `not an error: ${JSON.stringify(c)}`;
    };
    assert.equal(message(['--fxi']), 'warren reconcile: unknown option --fxi (did you mean --fix?)');
    assert.equal(message(['--adopt', '--plan']), 'warren reconcile: --plan needs a value');
    assert.match(message(['--adopt']), /--adopt needs --plan/);
    assert.match(message(['--adopt', '--plan', 'small', '--fix']), /separate runs/);
    assert.match(message(['--instance', 'x']), /go with --adopt/);
    assert.equal(message(['extra']), 'warren reconcile: unexpected argument "extra"');
  });
});
