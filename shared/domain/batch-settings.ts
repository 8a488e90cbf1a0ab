// The settings of S3 Batch Operations jobs, as plain data: the findings store records them with each
// job (findings/batch-job-store.ts) and batch-operations/ carries them out.

/** What one job changes every object to: one key, one Bucket Key setting. */
export interface BatchTarget {
  kmsKeyArn: string;
  bucketKey: boolean;
}

/** The job settings a run is given (flags or SSEGUARD_BATCH_*). */
export interface BatchSettings {
  accountId: string;
  roleArn: string;
  reportBucket: string;
  /** Prefix of manifests and completion reports in the report bucket. */
  prefix: string;
  priority: number;
}
