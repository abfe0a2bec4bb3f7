// Records for store tests, each with a fresh id so tests sharing one database never collide.

import { randomUUID } from 'node:crypto';
import type { BindingRecord, InstanceRecord, OperationRecord } from '../../src/store/store.ts';

export const uid = (prefix: string): string => `${prefix}-${randomUUID()}`;

export const T0 = '2024-03-01T10:00:00.000Z';

export function instanceRecord(over: Partial<InstanceRecord> = {}): InstanceRecord {
  const id = over.id ?? uid('inst');
  return {
    id,
    serviceId: 'svc-rabbitmq',
    planId: 'plan-small',
    organizationGuid: 'org-1',
    spaceGuid: 'space-1',
    parameters: { maxQueues: 10, tags: ['a', 'b'], nested: { ok: true, ratio: 0.5 } },
    context: { platform: 'cloudfoundry', instance_name: 'my-rabbit ✓' },
    maintenanceInfoVersion: '1.2.3',
    vhost: `v-${id}`,
    dashboardUrl: 'https://rabbit.example/#/vhosts',
    state: 'ready',
    createdAt: T0,
    updatedAt: T0,
    ...over,
  };
}

export function bindingRecord(instanceId: string, over: Partial<BindingRecord> = {}): BindingRecord {
  const id = over.id ?? uid('bind');
  return {
    id,
    instanceId,
    serviceId: 'svc-rabbitmq',
    planId: 'plan-small',
    appGuid: 'app-1',
    bindResource: { app_guid: 'app-1' },
    parameters: null,
    context: { platform: 'kubernetes' },
    predecessorBindingId: null,
    username: `u-${id}`,
    credentials: { uri: 'amqp://u:pw@host/v', password: `pw-${randomUUID()}`, vhost: 'v' },
    state: 'ready',
    createdAt: T0,
    updatedAt: T0,
    ...over,
  };
}

export function operationRecord(over: Partial<OperationRecord> = {}): OperationRecord {
  const instanceId = over.instanceId ?? uid('inst');
  return {
    id: uid('op'),
    resourceType: 'instance',
    resourceId: instanceId,
    instanceId,
    kind: 'provision',
    state: 'in progress',
    description: null,
    owner: null,
    leaseUntil: null,
    intent: null,
    followupAt: null,
    createdAt: T0,
    updatedAt: T0,
    ...over,
  };
}

/** The password inside a fixture binding's credentials. */
export function passwordOf(b: BindingRecord): string {
  const pw = b.credentials?.['password'];
  if (typeof pw !== 'string') throw new Error('fixture binding has no password');
  return pw;
}
