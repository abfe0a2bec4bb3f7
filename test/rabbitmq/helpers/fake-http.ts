// A local HTTP server for the few answers real RabbitMQ cannot give on demand (invalid JSON in
// a 200, an oversized body, a body that stalls). Everything else is tested against RabbitMQ.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startFake(handler: http.RequestListener): Promise<FakeServer> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
