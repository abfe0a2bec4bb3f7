// Builds the Fastify application that speaks OSBAPI v2.17. It knows the protocol only: status
// codes, headers, bodies. What the operations mean is the ServiceBroker's business.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { ServerOptions as HttpsOptions } from 'node:https';
import { basicAuthChecker, triedUsername, type BasicCredentials } from './basic-auth.ts';
import { budgetedBroker } from './budgeted-broker.ts';
import { LoginThrottle } from './login-throttle.ts';
import { isSupportedApiVersion, parseOriginatingIdentity } from './broker-headers.ts';
import { BrokerError } from '../contract/broker-errors.ts';
import { ID_RULE } from '../contract/resource-ids.ts';
import { registerBindingRoutes } from './routes/binding-routes.ts';
import { registerCatalogRoute } from './routes/catalog-route.ts';
import { registerInstanceRoutes } from './routes/instance-routes.ts';
import type { RequestContext, ServiceBroker } from '../contract/service-broker.ts';

/** Limits against slow and abusive clients (slowloris, trickled bodies, header floods, connection floods). */
export interface ListenerLimits {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  idleTimeoutMs: number;
  maxHeaderBytes: number;
  maxConnections: number;
}

export const DEFAULT_LISTENER_LIMITS: ListenerLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  idleTimeoutMs: 60_000,
  maxHeaderBytes: 16_384,
  maxConnections: 1024,
};

export interface OsbApiOptions {
  broker: ServiceBroker;
  /** The platform's basic-auth account; a function is read on every request (configuration reload). */
  credentials: BasicCredentials | (() => BasicCredentials);
  logger: Logger;
  /** Serve HTTPS only, with these options (cert, key, and for mutual TLS ca + requestCert). */
  https?: HttpsOptions;
  /** Failed logins per client address before 429s (default 10 in 60 s). */
  authThrottle?: { maxFailures: number; windowMs: number };
  /** Called for each refused login: 'rejected' (401) or 'throttled' (429). */
  onAuthFailure?: (outcome: 'rejected' | 'throttled') => void;
  /** Every request answers within this (default 25 s); see budgeted-broker.ts. */
  requestBudgetMs?: number;
  /** Largest request body accepted; larger ones get 413. */
  bodyLimit?: number;
  /** Called once per answered OSBAPI request, for metrics. */
  onAnswered?: (operation: string, status: number, seconds: number) => void;
  /** Called for 5xx answers caused by an unexpected error (not a BrokerError). */
  onInternalError?: (err: unknown) => void;
  /** Listener limits; DEFAULT_LISTENER_LIMITS when absent. */
  limits?: ListenerLimits;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The OSBAPI operation a route serves, for metrics and the audit log. */
    operation?: string;
  }
  interface FastifyRequest {
    osb: RequestContext;
  }
}

export function sendError(reply: FastifyReply, err: BrokerError): FastifyReply {
  return reply.code(err.status).type('application/json').send(err.body());
}

export async function createOsbApiServer(opts: OsbApiOptions): Promise<FastifyInstance> {
  const limits = opts.limits ?? DEFAULT_LISTENER_LIMITS;
  // Node refuses a headers timeout longer than the request timeout.
  const headersTimeout = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs);
  const serverLimits = {
    maxHeaderSize: limits.maxHeaderBytes,
    headersTimeout,
    requestTimeout: limits.requestTimeoutMs,
    connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(headersTimeout / 4))),
  };
  const app = Fastify({
    // Node checks both timeouts every connectionsCheckingInterval (30 s by default): often
    // enough that a timeout is enforced within about a second of its value. An HTTPS server
    // takes the same options beside its certificate.
    ...(opts.https ? { https: { ...serverLimits, ...opts.https } } : { http: serverLimits }),
    requestTimeout: limits.requestTimeoutMs,
    connectionTimeout: limits.idleTimeoutMs,
    loggerInstance: opts.logger as FastifyBaseLogger,
    // Per-request lines cost more than they tell; the audit log and metrics cover requests.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: opts.bodyLimit ?? 1024 * 1024,
    // Platforms name their requests; keep their identity as our request id.
    requestIdHeader: 'x-broker-api-request-identity',
    // Answered by our own hook below, in the protocol's error shape.
    return503OnClosing: false,
    // Ids may be up to 255 characters (contract/resource-ids.ts): the router must not cut them at 100.
    routerOptions: { maxParamLength: 1024 },
    // Malformed URLs and the like get the protocol's error shape too.
    frameworkErrors: (err, _request, reply) => {
      void sendError(reply, new BrokerError(400, 'BadRequest', err.message));
    },
    forceCloseConnections: 'idle',
    ajv: { customOptions: { coerceTypes: false, allErrors: false } },
    schemaErrorFormatter: (errors, dataVar) => {
      const e = errors[0];
      const field = (e?.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
      if (e?.keyword === 'pattern' && dataVar === 'params') return new Error(`${field} must be ${ID_RULE}`);
      if (e?.keyword === 'required') return new Error(`${dataVar === 'querystring' ? 'query parameter' : dataVar} ${String(e.params.missingProperty)} is required`);
      if (e?.keyword === 'minLength') return new Error(`${field} must not be empty`);
      return new Error(`${dataVar}${field ? '.' + field : ''} ${e?.message ?? 'is invalid'}`);
    },
  });

  // Any content type is read as JSON: some platforms omit the header, none sends anything else.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => {
    const text = (body as string).trim();
    if (text === '') return done(null, {});
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        return done(new BrokerError(400, 'BadRequest', 'request body must be a JSON object'), undefined);
      }
      done(null, parsed);
    } catch {
      done(new BrokerError(400, 'BadRequest', 'request body is not valid JSON'), undefined);
    }
  });

  app.setErrorHandler((err: FastifyError | BrokerError, request, reply) => {
    if (err instanceof BrokerError) {
      // Every 5xx is logged with its cause (messages never carry secrets) and counted by status.
      // The answer names what failed; addresses and RabbitMQ's own words stay in this log line.
      if (err.status >= 500) {
        const cause = err.cause === undefined ? undefined : ((err.cause as Error)?.message ?? String(err.cause));
        request.log.warn({ operation: request.routeOptions.config.operation, status: err.status, code: err.code, cause: err.message, ...(cause ? { err: cause } : {}) }, 'answered with a server error');
      }
      return sendError(reply, err);
    }
    if (err.validation) return sendError(reply, new BrokerError(400, 'BadRequest', err.message));
    const status = err.statusCode ?? 500;
    if (status === 413) return sendError(reply, new BrokerError(413, 'PayloadTooLarge', `request body is larger than ${app.initialConfig.bodyLimit} bytes`));
    if (status >= 400 && status < 500) return sendError(reply, new BrokerError(status, 'BadRequest', err.message));
    opts.onInternalError?.(err);
    request.log.error({ err, operation: request.routeOptions.config.operation }, 'request failed');
    return sendError(reply, new BrokerError(500, 'InternalError', 'internal error; see the broker log'));
  });

  app.setNotFoundHandler((request, reply) =>
    sendError(reply, new BrokerError(404, 'NotFound', `no such endpoint: ${request.method} ${request.url.split('?')[0]}`)),
  );

  // Once closing (a rolling restart), requests already on their way over a kept-alive socket are
  // still served, but every answer says `Connection: close`, so the platform's next request opens
  // a new connection, which the load balancer sends to another replica. Idle sockets are closed.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async (request) => {
    // Some platforms send bodies without (or with an empty) content type: read them as JSON.
    if (!request.headers['content-type']) request.headers['content-type'] = 'application/json';
  });
  app.addHook('onSend', async (request, reply) => {
    // An answer given before the body was read (401, 412, 413, ...) ends the connection: a
    // client still trickling a body must not keep it open for as long as it likes.
    if (closing || (reply.statusCode >= 400 && !request.raw.complete)) reply.header('connection', 'close');
  });
  // Past the cap, Node drops new connections at accept (the 'drop' event), before any parsing.
  app.server.maxConnections = limits.maxConnections;

  const broker = budgetedBroker(opts.broker, opts.requestBudgetMs ?? 25_000);
  const authorized = basicAuthChecker(opts.credentials);
  const throttle = new LoginThrottle(opts.authThrottle ?? { maxFailures: 10, windowMs: 60_000 });

  await app.register(
    async (v2) => {
      // Order matters: authentication, then the version header, then (later) the body.
      v2.addHook('onRequest', async (request, reply) => {
        const identity = request.headers['x-broker-api-request-identity'];
        if (identity !== undefined) reply.header('x-broker-api-request-identity', identity);
        if (!authorized(request.headers.authorization)) {
          const wait = throttle.retryAfter(request.ip);
          if (wait > 0) {
            // Throttled: counted, answered 429, not logged one by one (a flood must not flood the log).
            opts.onAuthFailure?.('throttled');
            reply.header('retry-after', String(wait));
            return sendError(reply, new BrokerError(429, 'TooManyRequests', `too many failed logins from this address; retry in ${wait} s`));
          }
          opts.onAuthFailure?.('rejected');
          const nowThrottled = throttle.fail(request.ip);
          // Never the tried password: the username (if any) and where it came from.
          request.log.warn({ client: request.ip, username: triedUsername(request.headers.authorization), throttled: nowThrottled }, 'failed login to the broker API');
          reply.header('www-authenticate', 'Basic realm="warren"');
          return sendError(reply, new BrokerError(401, 'Unauthorized', 'missing or wrong broker credentials'));
        }
        const version = request.headers['x-broker-api-version'];
        if (!isSupportedApiVersion(typeof version === 'string' ? version : undefined)) {
          return sendError(
            reply,
            new BrokerError(412, 'PreconditionFailed', `X-Broker-API-Version header must be 2.x (e.g. 2.17), got ${version === undefined ? 'none' : JSON.stringify(version)}`),
          );
        }
        const query = request.query as Record<string, unknown>;
        const originating = request.headers['x-broker-api-originating-identity'];
        request.osb = {
          requestIdentity: request.headers['x-broker-api-request-identity'] as string | undefined,
          originatingIdentity: parseOriginatingIdentity(typeof originating === 'string' ? originating : undefined),
          acceptsIncomplete: query.accepts_incomplete === 'true',
        };
      });
      if (opts.onAnswered) {
        const onAnswered = opts.onAnswered;
        v2.addHook('onResponse', async (request, reply) => {
          onAnswered(request.routeOptions.config.operation ?? 'unknown', reply.statusCode, reply.elapsedTime / 1000);
        });
      }
      const routes = v2.withTypeProvider<TypeBoxTypeProvider>();
      registerCatalogRoute(routes, broker);
      registerInstanceRoutes(routes, broker);
      registerBindingRoutes(routes, broker);
    },
    { prefix: '/v2' },
  );
  return app;
}

export type { FastifyInstance, FastifyRequest };
