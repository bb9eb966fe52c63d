import type { Server } from 'node:net';

/**
 * Listens on `host:port` (0: any free port) and resolves with the port taken; a failure to
 * listen (port in use) rejects instead of becoming an unhandled 'error' event.
 */
export function listenOn(server: Server, port = 0, host = '127.0.0.1'): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}
