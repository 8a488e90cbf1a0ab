// Why an inventory report cannot be used. The message says what is wrong and what to do.
export class InventoryError extends Error {
  constructor(
    /** A stable code for callers and tests: where in the report the problem is. */
    readonly code:
      | 'no-manifest'
      | 'manifest-invalid'
      | 'checksum-mismatch'
      | 'wrong-bucket'
      | 'unsupported-format'
      | 'schema-missing-column'
      | 'data-file-invalid'
      | 'location-invalid'
      | 'query-failed',
    message: string,
  ) {
    super(message);
    this.name = 'InventoryError';
  }
}
