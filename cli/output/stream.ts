// Writes to a stream and waits when its buffer is full, so long outputs keep memory flat. A reader
// that goes away (`sseguard report | head`) is a normal end of the output, not an error: the write
// in progress fails with OutputClosedError, which the CLI ends on quietly with exit code 0.
import { once } from 'node:events';
import type { Writable } from 'node:stream';

/** The output's reader closed its end: nothing more can be written, and nothing went wrong. */
export class OutputClosedError extends Error {
  constructor() {
    super('the output was closed by its reader');
    this.name = 'OutputClosedError';
  }
}

/** EPIPE (the reader closed the pipe), or a write to a stream already destroyed by it. */
export function isClosedOutput(error: unknown): boolean {
  if (error instanceof OutputClosedError) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED';
}

export async function write(stream: Writable, text: string): Promise<void> {
  if (stream.destroyed) throw new OutputClosedError();
  try {
    if (!stream.write(text)) await once(stream, 'drain');
  } catch (error) {
    throw isClosedOutput(error) ? new OutputClosedError() : error;
  }
}

/**
 * Node reports EPIPE as an 'error' event on the stream, possibly after the write that caused it
 * returned; without a listener that event crashes the process. This listener lets a closed output
 * pass (the next write sees a destroyed stream) and leaves other errors as they were.
 */
export function tolerateClosedOutput(stream: Writable): void {
  stream.on('error', (error) => {
    if (!isClosedOutput(error)) throw error;
  });
}
