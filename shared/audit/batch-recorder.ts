// Collects findings from concurrent auditors and records them in batches, one batch in flight at a
// time (each batch is one DynamoDB transaction touching the shared counters: concurrent batches
// would only conflict). Auditors wait when a full batch is queued behind the one in flight, so
// memory stays bounded however fast the audit runs. A failure is kept and re-thrown to every caller.
import type { Finding } from '../domain/finding.ts';
import type { FindingsStore } from '../findings/store.ts';

export class BatchRecorder {
  private buffer: Finding[] = [];
  private inFlight: Promise<void> = Promise.resolve();
  private failure: unknown;

  constructor(
    private readonly store: Pick<FindingsStore, 'record'>,
    private readonly batchSize = 25,
  ) {}

  async add(finding: Finding): Promise<void> {
    this.throwIfFailed();
    this.buffer.push(finding);
    if (this.buffer.length >= this.batchSize) {
      // Wait for the batch ahead before queueing another: this is the backpressure.
      await this.inFlight;
      this.throwIfFailed();
      if (this.buffer.length >= this.batchSize) this.startBatch();
    }
  }

  /** Records whatever is buffered and waits for every batch; throws the first failure. */
  async flush(): Promise<void> {
    await this.inFlight;
    if (this.buffer.length > 0) this.startBatch();
    await this.inFlight;
    this.throwIfFailed();
  }

  private startBatch(): void {
    const batch = this.buffer;
    this.buffer = [];
    this.inFlight = this.store.record(batch).catch((error: unknown) => {
      this.failure ??= error;
    });
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }
}
