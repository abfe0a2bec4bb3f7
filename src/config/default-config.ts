// What warren serves with no configuration file: a local RabbitMQ (guest/guest on
// 127.0.0.1:15672) and a catalog of one service with two plans.

export const DEFAULT_SERVICE_ID = '6f1b1f0e-3c1a-4c55-9a55-7a1d6c1e0a01';

export function defaultConfigDocument(): Record<string, unknown> {
  return {
    listen: '127.0.0.1:8080',
    log_level: 'info',
    auth: { username: 'warren' },
    data_dir: './data',
    store: { kind: 'sqlite' },
    rabbitmq: {
      management_urls: ['http://127.0.0.1:15672'],
      administrator: { username: 'guest', password: 'guest' },
    },
    catalog: {
      services: [
        {
          id: DEFAULT_SERVICE_ID,
          name: 'rabbitmq',
          description: 'A RabbitMQ virtual host of your own, with credentials per binding',
          tags: ['rabbitmq', 'amqp', 'messaging'],
          metadata: { displayName: 'RabbitMQ', providerDisplayName: 'warren' },
          plans: [
            {
              id: '6f1b1f0e-3c1a-4c55-9a55-7a1d6c1e0b01',
              name: 'small',
              description: 'Up to 20 connections and 100 queues',
              free: true,
              maintenance_info: { version: '1.0.0', description: 'Initial release' },
              metadata: { bullets: ['20 connections', '100 queues', '5 connections per binding'] },
              rabbitmq: {
                vhost_limits: { max_connections: 20, max_queues: 100 },
                user_limits: { max_connections: 5, max_channels: 64 },
              },
            },
            {
              id: '6f1b1f0e-3c1a-4c55-9a55-7a1d6c1e0b02',
              name: 'standard',
              description: 'Up to 500 connections and 2000 queues of at most a million messages each',
              free: true,
              binding_rotatable: true,
              maintenance_info: { version: '1.0.0', description: 'Initial release' },
              metadata: { bullets: ['500 connections', '2000 queues'] },
              rabbitmq: {
                vhost_limits: { max_connections: 500, max_queues: 2000 },
                operator_policies: [
                  { name: 'warren-queue-cap', pattern: '.*', apply_to: 'queues', definition: { 'max-length': 1000000 } },
                ],
              },
            },
          ],
        },
      ],
    },
  };
}
