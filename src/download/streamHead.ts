// Reads the first bytes of a stream without consuming them for later readers (the caller
// unshifts them back): used to sniff gzip's magic before building the unpack pipeline.
import type { Readable } from 'node:stream';

export async function readHead(input: Readable, n: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let have = 0;
  while (have < n) {
    const chunk = input.read() as Buffer | null;
    if (chunk !== null) {
      chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
      have += chunk.length;
      continue;
    }
    if (input.readableEnded || input.destroyed) break;
    const more = await new Promise<boolean>((resolve, reject) => {
      const cleanup = (): void => {
        input.off('readable', onReadable);
        input.off('end', onEnd);
        input.off('error', onError);
      };
      const onReadable = (): void => {
        cleanup();
        resolve(true);
      };
      const onEnd = (): void => {
        cleanup();
        resolve(false);
      };
      const onError = (err: Error): void => {
        cleanup();
        reject(err);
      };
      input.on('readable', onReadable);
      input.on('end', onEnd);
      input.on('error', onError);
    });
    if (!more) break;
  }
  return Buffer.concat(chunks);
}
