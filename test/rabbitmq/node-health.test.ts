// The node state machine on its own: what each outcome does to a node and to the call order.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { NodeHealth, type NodeState } from '../../src/rabbitmq/node-health.ts';

const names = ['http://a:15672', 'http://b:15672', 'http://c:15672'];

it('unknown until heard from; a success makes a node up; up nodes come first, in configured order', () => {
  const h = new NodeHealth(names);
  assert.deepEqual(h.view().map((v) => v.state), ['unknown', 'unknown', 'unknown']);
  assert.deepEqual(h.callOrder(), [0, 1, 2]);
  h.succeeded(2);
  assert.deepEqual(h.callOrder(), [2, 0, 1]);
  assert.equal(h.anyUp(), true);
});

it('a refusal or a stall is definite (down); a reset or 503 makes a node suspect, twice in a row down', () => {
  const changes: Array<[number, NodeState, NodeState, string | undefined]> = [];
  const h = new NodeHealth(names, (i, from, to, code) => changes.push([i, from, to, code]));
  for (let i = 0; i < 3; i++) h.succeeded(i);
  h.failed(0, 'ATTEMPT_TIMEOUT');
  h.failed(1, 'ECONNRESET');
  assert.deepEqual(h.view().map((v) => v.state), ['down', 'suspect', 'up']);
  assert.deepEqual(h.callOrder(), [2, 1], 'down nodes are skipped, suspect ones go last');
  h.failed(1, 'HTTP_503');
  assert.equal(h.state(1), 'down');
  assert.equal(h.view()[1]?.consecutive_failures, 2);
  assert.equal(h.view()[1]?.last_error, 'HTTP_503');
  h.failed(2, 'ECONNREFUSED');
  assert.deepEqual(h.callOrder(), [1, 2], 'every node down: those that failed fast, as a last resort; not the stalled one');
  assert.equal(h.stalledDown(0), true);
  const allStalled = new NodeHealth(names);
  for (let i = 0; i < 3; i++) allStalled.failed(i, 'UND_ERR_HEADERS_TIMEOUT');
  assert.deepEqual(allStalled.callOrder(), [], 'every node stalled: calls fail at once');
  assert.equal(h.anyUp(), false);
  h.succeeded(1);
  assert.deepEqual(h.callOrder(), [1]);
  assert.equal(h.view()[1]?.consecutive_failures, 0);
  assert.deepEqual(changes.at(-1), [1, 'down', 'up', undefined]);
});

it('running out of our own file descriptors says nothing about the node', () => {
  const h = new NodeHealth(names);
  h.succeeded(0);
  assert.equal(h.failed(0, 'EMFILE'), false);
  assert.equal(h.state(0), 'up');
});
