// A TCP proxy on 127.0.0.1 that holds every new connection for a fixed delay before passing it on:
// a remote 50 ms away, for the slow-remote benchmark.

import { createServer, connect, type Server } from 'node:net';

export async function startDelayProxy(targetPort: number, delayMs: number): Promise<{ port: number; server: Server }> {
  const server = createServer((client) => {
    client.pause();
    setTimeout(() => {
      const upstream = connect(targetPort, '127.0.0.1', () => {
        client.pipe(upstream).pipe(client);
        client.resume();
      });
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    }, delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { port: typeof address === 'object' && address ? address.port : 0, server };
}
