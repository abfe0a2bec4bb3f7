// /health (the process answers), /ready (it can do its job), /metrics (Prometheus). These sit
// outside /v2 and its basic auth, where probes and scrapers expect them.
import type { FastifyInstance } from 'fastify';
import type { BrokerMetrics } from './broker-metrics.ts';
import type { Readiness } from './readiness.ts';

export function registerHealthRoutes(app: FastifyInstance, deps: { metrics: BrokerMetrics; readiness: Readiness }): void {
  app.get('/health', async (_req, reply) => reply.send({ status: 'ok' }));

  app.get('/ready', async (_req, reply) => {
    const report = await deps.readiness.check();
    return reply.code(report.ready ? 200 : 503).send(report);
  });

  app.get('/metrics', async (_req, reply) => {
    const text = await deps.metrics.registry.metrics();
    return reply.type(deps.metrics.registry.contentType).send(text);
  });
}
