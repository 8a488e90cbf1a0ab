// A Batch manifest written line by line to a temporary file while the scan runs, so that a million
// objects never sit in memory: only the file's running SHA-256, byte and line counts do.
import { createHash, type Hash } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { batchManifestCsv, type BatchTarget as ManifestLine } from './job-files.ts';

export interface ClosedManifest {
  path: string;
  sha256: string;
  bytes: number;
  lines: number;
}

export class ManifestFile {
  private readonly stream: WriteStream;
  private readonly hash: Hash = createHash('sha256');
  private bytes = 0;
  private lines = 0;

  constructor(readonly path: string) {
    this.stream = createWriteStream(path, { flags: 'w' });
  }

  /** Appends one task line (version-pinned when the object has a version). */
  async append(line: ManifestLine): Promise<void> {
    const text = batchManifestCsv([line], { versioned: line.versionId !== undefined });
    this.hash.update(text);
    this.bytes += Buffer.byteLength(text);
    this.lines += 1;
    if (!this.stream.write(text)) await once(this.stream, 'drain');
  }

  async close(): Promise<ClosedManifest> {
    await new Promise<void>((resolve, reject) => this.stream.end((error?: Error | null) => (error ? reject(error) : resolve())));
    return { path: this.path, sha256: this.hash.digest('hex'), bytes: this.bytes, lines: this.lines };
  }
}
