// Collects findings from concurrent auditors and records them in batches, a few batches in flight
// at once (each is one DynamoDB transaction; the store spreads them over counter shards so they do
// not conflict). Auditors wait while the limit of batches is in flight, so memory stays bounded
// however fast the audit runs. A failure is kept and re-thrown to every caller. Findings whose order
// against the stored state only a fresh HeadObject can tell go back to the caller (`onUndecided`).
import type { Finding } from '../domain/finding.ts';
import type { FindingsStore, RecordResult } from '../findings/store.ts';

export class BatchRecorder {
  private buffer: Finding[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private failure: unknown;

  constructor(
    private readonly store: Pick<FindingsStore, 'record'>,
    private readonly batchSize = 45,
    private readonly maxInFlight = 4,
    private readonly onUndecided: (findings: Finding[]) => void = () => undefined,
    private readonly onRecheck: (rechecks: NonNullable<RecordResult['recheck']>) => void = () => undefined,
  ) {}

  async add(finding: Finding): Promise<void> {
    this.throwIfFailed();
    this.buffer.push(finding);
    if (this.buffer.length >= this.batchSize) {
      // Wait for a batch to finish before queueing another: this is the backpressure.
      while (this.inFlight.size >= this.maxInFlight) await Promise.race(this.inFlight);
      this.throwIfFailed();
      if (this.buffer.length >= this.batchSize) this.startBatch();
    }
  }

  /** Records whatever is buffered and waits for every batch; throws the first failure. */
  async flush(): Promise<void> {
    if (this.buffer.length > 0) this.startBatch();
    await Promise.all(this.inFlight);
    this.throwIfFailed();
  }

  private startBatch(): void {
    const batch = this.buffer;
    this.buffer = [];
    const recording: Promise<void> = this.store
      .record(batch)
      .then(({ undecided, recheck = [] }) => {
        if (undecided.length > 0) this.onUndecided(undecided);
        if (recheck.length > 0) this.onRecheck(recheck);
      })
      .catch((error: unknown) => {
        this.failure ??= error;
      })
      .finally(() => this.inFlight.delete(recording));
    this.inFlight.add(recording);
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }
}
