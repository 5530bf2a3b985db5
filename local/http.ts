import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

// What every local HTTP surface (stand-ins, Step Functions endpoint, console) does alike.

export class BodyTooLargeError extends Error {
  constructor(readonly limitBytes: number) {
    super(`Request body over ${limitBytes} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

/** The request body as UTF-8 text; past `maxBytes` the request is dropped and BodyTooLargeError raised. */
export function readBody(req: IncomingMessage, maxBytes = 10 * 1024 * 1024): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        reject(new BodyTooLargeError(maxBytes));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export interface Listening {
  url: string;
  port: number;
  /** Idempotent, so teardown can close whatever is running without bookkeeping. */
  close: () => Promise<void>;
}

/** Starts `server` on `host:port` (0 = any free port). */
export async function listen(server: Server, port: number, host = '127.0.0.1'): Promise<Listening> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${address.port}`,
    port: address.port,
    close: () => {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Keep-alive sockets (SDK clients) and open event streams would otherwise hold close() open.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
