// Typed errors of the management client. None of them ever carries credentials: nodes are
// named by their origin without userinfo, and request bodies (which hold passwords) are never
// copied into an error.

export type HttpMethod = 'GET' | 'PUT' | 'POST' | 'DELETE';

interface Where {
  method: HttpMethod;
  /** Request path as sent (percent-encoded; may name vhosts/users, never credentials). */
  path: string;
  /** Origin of the node, e.g. http://10.0.0.1:15672 (no userinfo). */
  node: string;
}

/** Base class, so callers can catch everything this client throws with one instanceof. */
export class ManagementClientError extends Error {
  readonly method: HttpMethod;
  readonly path: string;
  readonly node: string;
  constructor(message: string, where: Where, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.method = where.method;
    this.path = where.path;
    this.node = where.node;
  }
}

/** RabbitMQ answered with an HTTP status the call does not accept (4xx, 500, ...). */
export class ManagementError extends ManagementClientError {
  readonly status: number;
  /** RabbitMQ's `error` field, e.g. "bad_request"; '' when the body had none (e.g. 500). */
  readonly error: string;
  /** RabbitMQ's `reason`, normalized to a string (arrays are joined with ': '). */
  readonly reason: string;
  constructor(status: number, error: string, reason: string, where: Where) {
    const detail = error || reason ? `: ${error}${error && reason ? ' - ' : ''}${reason}` : '';
    super(`RabbitMQ management ${where.method} ${where.path} on ${where.node} answered ${status}${detail}`, where);
    this.status = status;
    this.error = error;
    this.reason = reason;
  }
}

/**
 * A node answered, but the answer is unusable: invalid JSON, a body above the size bound, a
 * shape the caller's parse step rejected. Not retried: the same node would answer the same.
 */
export class ManagementProtocolError extends ManagementClientError {
  readonly status: number;
  constructor(message: string, status: number, where: Where, options?: { cause?: unknown }) {
    super(`RabbitMQ management ${where.method} ${where.path} on ${where.node} (status ${status}): ${message}`, where, options);
    this.status = status;
  }
}

/** One attempt failed in transport (refused, reset, timeout, garbage, cut body, 502/503/504). */
export class ManagementTransportError extends ManagementClientError {
  /** undici/system error code (UND_ERR_HEADERS_TIMEOUT, ECONNREFUSED, ...) or 'HTTP_<status>'. */
  readonly code: string;
  /** Set when the node answered 502/503/504. */
  readonly status: number | undefined;
  constructor(code: string, detail: string, where: Where, options?: { cause?: unknown; status?: number }) {
    super(`RabbitMQ management ${where.method} ${where.path} on ${where.node} failed: ${code} ${detail}`, where, options);
    this.code = code;
    this.status = options?.status;
  }
}

/** No configured node could answer within the attempt and time bounds. `cause` is the last failure. */
export class ManagementUnavailableError extends ManagementClientError {
  readonly attempts: number;
  readonly nodes: readonly string[];
  constructor(message: string, where: Where, attempts: number, nodes: readonly string[], cause?: unknown) {
    super(message, where, { cause });
    this.attempts = attempts;
    this.nodes = nodes;
  }
}

/**
 * The current request's time budget (src/deadline) ran out before a node answered: the call
 * stopped at once instead of retrying. A ManagementUnavailableError, so callers that map
 * "RabbitMQ unreachable" to 503 need nothing new; `code` tells it apart (e.g. to answer 202
 * and finish in the background instead).
 */
export class ManagementDeadlineError extends ManagementUnavailableError {
  readonly code = 'DEADLINE_EXCEEDED';
}
