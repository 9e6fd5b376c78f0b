// A TCP pass-through in front of a server that counts the connections it accepts: "new
// connections" counted at the server's door, whatever the client is and whichever process it
// runs in. TLS passes through untouched (the client still talks to the server's certificate;
// the pass-through listens on the same 127.0.0.1 the certificate names).
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface TcpCounter {
  /** The pass-through's port on 127.0.0.1. */
  port: number;
  /** Connections accepted since start. */
  connections(): number;
  close(): Promise<void>;
}

export async function startTcpCounter(target: { host: string; port: number }): Promise<TcpCounter> {
  let accepted = 0;
  const open = new Set<Socket>();
  const server: Server = createServer((client) => {
    accepted++;
    const upstream = connect(target.port, target.host);
    // Either side gone (closed, reset, refused): the other goes too, so no descriptor is
    // left holding a connection nobody can use.
    const both = () => {
      client.destroy();
      upstream.destroy();
    };
    for (const socket of [client, upstream]) {
      open.add(socket);
      socket.setNoDelay(true);
      socket.on('close', () => {
        open.delete(socket);
        both();
      });
      socket.on('error', both);
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    connections: () => accepted,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
