// The mark an inventory report leaves on an object's state when it did not list the object and no
// HeadObject could say the object is gone (throttled, failing, denied): a second consecutive report
// that does not list it either removes it (shared/audit/inventory-absence.ts). A later report that
// lists it clears the mark. Conditional on the state's revision: a state rewritten since (a fresh
// audit saw the object) is left alone, and its rewrite has no mark.
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { withRetries } from './dynamodb-writes.ts';
import { objectPk, STATE_SK } from './table.ts';

export class ObjectAbsenceMarks {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Marks the state absent from the report of `reportDate`; false when the state changed since it was read. */
  mark(bucket: string, key: string, reportDate: string, expectedRev: number): Promise<boolean> {
    return this.update(bucket, key, 'SET absentFrom = :date', { ':date': reportDate }, expectedRev);
  }

  clear(bucket: string, key: string, expectedRev: number): Promise<boolean> {
    return this.update(bucket, key, 'REMOVE absentFrom', {}, expectedRev);
  }

  private async update(bucket: string, key: string, expression: string, values: Record<string, unknown>, expectedRev: number): Promise<boolean> {
    try {
      await withRetries('UpdateItem', () =>
        this.documents.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { pk: objectPk(bucket, key), sk: STATE_SK },
            UpdateExpression: expression,
            ConditionExpression: 'rev = :rev',
            ExpressionAttributeValues: { ':rev': expectedRev, ...values },
          }),
        ),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}
