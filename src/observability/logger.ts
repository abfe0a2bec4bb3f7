// pino, with every field that may hold a secret redacted, whatever the log call passes.
import { destination as pinoDestination, pino, stdTimeFunctions, type DestinationStream, type Logger } from 'pino';

const SECRET_PATHS = [
  'password', '*.password', 'credentials', '*.credentials', 'authorization', '*.authorization',
  'headers.authorization', '*.headers.authorization', 'uri', '*.uri', 'uris', '*.uris',
  'encryption_key', '*.encryption_key', 'url', '*.url',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      name: 'warren',
      level,
      redact: { paths: SECRET_PATHS, censor: '[redacted]' },
      base: { pid: process.pid },
      timestamp: stdTimeFunctions.isoTime,
    },
    destination ?? pinoDestination({ sync: false }),
  );
}
