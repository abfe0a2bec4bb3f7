// What a management URL says, parsed in one place: scheme, host, port, path prefix and the
// administrator account in its userinfo. Errors name the URL by the caller's label only: the
// string may hold a password (Node's own URL TypeError even copies it into `.input`).

export class ManagementUrlError extends TypeError {
  override name = 'ManagementUrlError';
}

export interface ManagementUrl {
  tls: boolean;
  /** 'http:' or 'https:' */
  protocol: 'http:' | 'https:';
  /** scheme://host[:port], no userinfo: what undici connects to and what errors name. */
  origin: string;
  /** host[:port] as written (the port is left out when it is the scheme's default); IPv6 in brackets. */
  hostPort: string;
  /** The host without brackets (an IPv6 address as is). */
  host: string;
  /** The port, the scheme's default (80, 443) when none is written. */
  port: number;
  /** A reverse proxy's or management.path_prefix's path: '' or '/something', no trailing slash, no trailing /api. */
  pathPrefix: string;
  /** origin + pathPrefix: the node's credential-free name. */
  base: string;
  /** Userinfo, percent-decoded; undefined when the URL carries none. */
  username?: string;
  password?: string;
}

/** A badly percent-encoded user or password is an error naming the URL's label, never a raw URIError. */
function decodeUserinfo(value: string, part: 'username' | 'password', where: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new ManagementUrlError(`${where}: the ${part} in the URL is not valid percent-encoding (write % as %25)`);
  }
}

/** `where` labels the URL in errors (e.g. `rabbitmq.management_urls[0]`); the URL itself is never repeated. */
export function parseManagementUrl(raw: string, where: string): ManagementUrl {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ManagementUrlError(`${where}: not a valid URL (expected http(s)://[user:password@]host:port)`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new ManagementUrlError(`${where}: scheme must be http or https, not ${u.protocol.replace(/:$/, '')}`);
  }
  const tls = u.protocol === 'https:';
  const pathPrefix = u.pathname.replace(/\/+$/, '').replace(/\/api$/, '');
  const hasUserinfo = u.username !== '' || u.password !== '';
  return {
    tls,
    protocol: u.protocol,
    origin: u.origin,
    hostPort: u.host,
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: Number(u.port || (tls ? 443 : 80)),
    pathPrefix,
    base: u.origin + pathPrefix,
    ...(hasUserinfo
      ? { username: decodeUserinfo(u.username, 'username', where), password: decodeUserinfo(u.password, 'password', where) }
      : {}),
  };
}
