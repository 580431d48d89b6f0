import type { AddressInfo, Server } from 'node:net';

/** Raised when a port is taken; its message is the one line an operator needs. */
export class PortInUseError extends Error {
  override name = 'PortInUseError';
  constructor(
    readonly port: number,
    readonly envVariable: string,
  ) {
    super(`Port ${port} is already in use; set ${envVariable} to another port (0 picks a free one).`);
  }
}

/** Listens on host:port and resolves with the port actually bound (port 0 picks a free one). */
export function listenOn(server: Server, port: number, host: string, envVariable: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      reject(error.code === 'EADDRINUSE' || error.code === 'EACCES' ? new PortInUseError(port, envVariable) : error);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}
