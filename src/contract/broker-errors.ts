// Failures in the protocol's own shape: {"error": "<Code>", "description": "..."}.
// The broker throws these; the protocol layer turns them into answers.

export class BrokerError extends Error {
  override name = 'BrokerError';
  constructor(
    readonly status: number,
    /** Machine-readable code (OSBAPI's AsyncRequired, ConcurrencyError, ... or a plain CamelCase word). */
    readonly code: string | undefined,
    description: string,
    /** Some answers must be exactly `{}` (410 Gone on delete). */
    readonly emptyBody = false,
  ) {
    super(description);
  }

  body(): Record<string, string> {
    if (this.emptyBody) return {};
    return this.code ? { error: this.code, description: this.message } : { description: this.message };
  }
}

export const badRequest = (description: string) => new BrokerError(400, 'BadRequest', description);
export const notFound = (description: string) => new BrokerError(404, 'NotFound', description);
export const conflict = (description: string) => new BrokerError(409, 'Conflict', description);
export const gone = () => new BrokerError(410, undefined, 'gone', true);
export const concurrencyError = (description = 'Another operation for this resource is in progress.') =>
  new BrokerError(422, 'ConcurrencyError', description);
export const maintenanceInfoConflict = (description: string) => new BrokerError(422, 'MaintenanceInfoConflict', description);
export const unprocessable = (code: string, description: string) => new BrokerError(422, code, description);
export const upstreamFailure = (description: string) => new BrokerError(502, 'UpstreamFailure', description);
export const unavailable = (description: string) => new BrokerError(503, 'ServiceUnavailable', description);
