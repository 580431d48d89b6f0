import { connect, type Socket } from 'node:net';
import { connectPacket } from './support.js';

// The connect storm's load generator, in a process of its own so 18,000 client sockets fit under its own
// open-file limit and their memory does not count in anyone else's. Messages: {storm: {port, devices,
// concurrency}} opens one connection per device and answers {connected, refused, seconds}, keeping them
// open; 'close' destroys them and answers 'closed'; 'stop' exits.
interface StormRequest {
  port: number;
  devices: Array<{ sn: string; deviceSecret: string }>;
  concurrency: number;
}

let sockets: Socket[] = [];

async function storm({ port, devices, concurrency }: StormRequest) {
  const packets = devices.map(connectPacket);

  let next = 0;
  let connected = 0;
  let refused = 0;
  const started = process.hrtime.bigint();
  const worker = async () => {
    while (next < packets.length) {
      const packet = packets[next++];
      const accepted = await new Promise<boolean>((resolve) => {
        const socket = connect(port, '127.0.0.1', () => socket.write(packet));
        socket.once('data', (data) => resolve(data[0] === 0x20 && data[3] === 0));
        socket.once('error', () => resolve(false));
        socket.once('close', () => resolve(false));
        sockets.push(socket);
      });
      if (accepted) connected += 1;
      else refused += 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { connected, refused, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

process.on('message', async (message: { storm?: StormRequest } | string) => {
  if (typeof message === 'object' && message.storm) {
    process.send?.(await storm(message.storm));
  } else if (message === 'close') {
    for (const socket of sockets) socket.destroy();
    sockets = [];
    process.send?.('closed');
  } else if (message === 'stop') {
    process.exit(0);
  }
});
process.send?.('ready');
