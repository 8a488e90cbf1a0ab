// Writes to a stream and waits when its buffer is full, so long outputs keep memory flat.
import { once } from 'node:events';
import type { Writable } from 'node:stream';

export async function write(stream: Writable, text: string): Promise<void> {
  if (!stream.write(text)) await once(stream, 'drain');
}
