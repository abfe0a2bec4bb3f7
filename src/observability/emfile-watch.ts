// Running out of file descriptors must not kill the broker: a failed accept() is logged (at
// most once a second, with the count since the last line) and the server keeps listening;
// requests whose RabbitMQ call cannot open a socket answer 503 (see broker/rabbit-failure.ts).
import type { Server } from 'node:net';
import type { Logger } from 'pino';

export function watchServerErrors(server: Server, log: Logger): void {
  let suppressed = 0;
  let lastLog = 0;
  server.on('error', (err: NodeJS.ErrnoException) => {
    const now = Date.now();
    if (now - lastLog < 1000) {
      suppressed++;
      return;
    }
    lastLog = now;
    const level = err.code === 'EMFILE' || err.code === 'ENFILE' ? 'error' : 'warn';
    log[level]({ code: err.code, syscall: err.syscall, repeated: suppressed }, err.code === 'EMFILE' ? 'out of file descriptors: connections are being dropped' : 'server socket error');
    suppressed = 0;
  });
}
