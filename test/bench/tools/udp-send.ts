// Sends COUNT UDP datagrams of SIZE payload bytes to TARGET_IP:TARGET_PORT. Payload: 4-byte
// big-endian sequence number, then the byte (seq & 0xff) repeated. Paced in small bursts (each
// burst waits for its send callbacks) so the veth's receive backlog never overflows.
//   ip netns exec NS node --import tsx udp-send.ts COUNT SIZE
import dgram from 'node:dgram';
import { TARGET_IP, TARGET_PORT } from './netns.js';

export function payload(seq: number, size: number): Buffer {
  const b = Buffer.alloc(size, seq & 0xff);
  b.writeUInt32BE(seq >>> 0, 0);
  return b;
}

async function main(): Promise<void> {
  const count = Number(process.argv[2] ?? '1000');
  const size = Math.max(4, Number(process.argv[3] ?? '100'));
  const sock = dgram.createSocket('udp4');
  const burst = 32;
  for (let seq = 0; seq < count; seq += burst) {
    const n = Math.min(burst, count - seq);
    await Promise.all(
      Array.from(
        { length: n },
        (_, i) =>
          new Promise<void>((resolve, reject) =>
            sock.send(payload(seq + i, size), TARGET_PORT, TARGET_IP, (err) => (err ? reject(err) : resolve())),
          ),
      ),
    );
  }
  sock.close();
  console.log(JSON.stringify({ sent: count, size }));
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '')) {
  void main();
}
