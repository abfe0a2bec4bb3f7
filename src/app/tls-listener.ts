// The OSBAPI port over TLS: certificate, key and (for mutual TLS) the CA that signs client
// certificates, read from files. Renewed files (cert-manager, a Kubernetes Secret's symlink
// swap, certbot) are picked up without a restart: the files are looked at on an interval and a
// new secure context replaces the old one; connections already open keep theirs.
import { readFileSync, statSync } from 'node:fs';
import type { ServerOptions as HttpsOptions } from 'node:https';
import { createSecureContext, type Server as TlsServer } from 'node:tls';
import type { Logger } from 'pino';
import type { WarrenConfig } from '../config/config-types.ts';

type TlsConfig = NonNullable<WarrenConfig['tls']>;

interface Material {
  cert: Buffer;
  key: Buffer;
  ca?: Buffer;
}

function read(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new Error(`cannot read the TLS ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

function readMaterial(t: TlsConfig): Material {
  return {
    cert: read(t.cert_file, 'certificate'),
    key: read(t.key_file, 'key'),
    ...(t.client_ca_file ? { ca: read(t.client_ca_file, 'client CA') } : {}),
  };
}

/** Options for https.createServer; throws, naming the file, when one is unreadable or they do not fit. */
export function httpsServerOptions(t: TlsConfig): HttpsOptions {
  const m = readMaterial(t);
  try {
    createSecureContext(m); // a key that does not match the certificate fails here, with a clear message
  } catch (err) {
    throw new Error(`the TLS certificate ${t.cert_file} and key ${t.key_file} cannot be used: ${(err as Error).message}`);
  }
  return {
    ...m,
    minVersion: 'TLSv1.2',
    // Mutual TLS: a client must present a certificate signed by the client CA, or the handshake fails.
    ...(m.ca ? { requestCert: true, rejectUnauthorized: true } : {}),
  };
}

function signature(t: TlsConfig): string {
  return [t.cert_file, t.key_file, t.client_ca_file].filter((f): f is string => !!f).map((f) => {
    try {
      const s = statSync(f); // follows symlinks: a swapped link target shows as a new inode
      return `${s.ino}:${s.size}:${s.mtimeMs}`;
    } catch {
      return 'missing';
    }
  }).join('|');
}

/** Re-reads the files when they change and swaps the server's secure context; returns a stop function. */
export function watchCertificates(server: TlsServer, t: TlsConfig, log: Logger): () => void {
  let current = signature(t);
  let lastFailure: string | undefined;
  const timer = setInterval(() => {
    const now = signature(t);
    if (now === current) return;
    try {
      const m = readMaterial(t);
      server.setSecureContext(m);
      current = now;
      lastFailure = undefined;
      log.info({ cert_file: t.cert_file }, 'TLS certificate reloaded');
    } catch (err) {
      // Half-written files (the certificate renewed before its key): keep the old context, retry.
      if (lastFailure !== now) log.warn({ cert_file: t.cert_file, err: (err as Error).message }, 'TLS files changed but cannot be used yet; keeping the previous certificate');
      lastFailure = now;
    }
  }, t.reload_interval_ms);
  timer.unref();
  return () => clearInterval(timer);
}
