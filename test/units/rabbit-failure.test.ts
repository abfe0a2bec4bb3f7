// What the platform reads when a RabbitMQ call fails: what failed, never where or as whom.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toBrokerError } from '../../src/broker/rabbit-failure.ts';
import { ManagementError, ManagementProtocolError, ManagementTransportError, ManagementUnavailableError } from '../../src/rabbitmq/errors.ts';

const where = { method: 'PUT' as const, path: '/api/permissions/tenant-1/warren-admin', node: 'https://rmq-3.internal.example:15671' };
const internal = /rmq-3|internal\.example|15671|warren-admin|https:/;

describe('toBrokerError', () => {
  it('names the failure without node, address, admin user or RabbitMQ reason text, and keeps the cause for the log', () => {
    const cases = [
      new ManagementError(400, 'bad_request', 'Validation failed: secret-internal-reason at node rmq-3', where),
      new ManagementProtocolError('invalid JSON', 200, where),
      new ManagementTransportError('ECONNRESET', 'socket hang up', where),
      new ManagementUnavailableError(`no node answered PUT ${where.path} [${where.node}]`, where, 3, [where.node]),
      new Error(`pg: connect ECONNREFUSED 10.1.2.3:5432 as warren-admin`),
    ];
    const answers = cases.map((err) => toBrokerError(err, 'provisioning failed'));
    assert.deepEqual(answers.map((a) => a.status), [502, 502, 502, 503, 500]);
    assert.equal(answers[0]!.message, 'provisioning failed: RabbitMQ answered 400 (bad_request) to PUT on permissions; details in the broker log');
    assert.match(answers[2]!.message, /ECONNRESET/);
    answers.forEach((a, i) => {
      assert.doesNotMatch(JSON.stringify(a.body()), internal, a.message);
      assert.doesNotMatch(a.message, /Validation failed|secret-internal-reason|10\.1\.2\.3/);
      assert.equal(a.cause, cases[i], 'the full failure rides along for the log');
    });
  });
});
