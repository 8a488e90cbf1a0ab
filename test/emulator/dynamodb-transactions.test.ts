import { CreateTableCommand, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, expect, test } from 'vitest';
import { createAwsClients } from '../../shared/aws/clients.ts';

// DynamoDB table names are 3–255 characters (ministack enforces it as AWS does; moto does not).
const TABLE = 'transactions';
const { dynamodb, documents } = createAwsClients();

beforeAll(async () => {
  await dynamodb.send(
    new CreateTableCommand({
      TableName: TABLE,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
    }),
  );
});

const createOnce = (id: string, writer: number) =>
  documents.send(
    new TransactWriteCommand({
      TransactItems: [
        { Put: { TableName: TABLE, Item: { id, writer }, ConditionExpression: 'attribute_not_exists(id)' } },
        { Update: { TableName: TABLE, Key: { id: 'counter' }, UpdateExpression: 'ADD n :one', ExpressionAttributeValues: { ':one': 1 } } },
      ],
    }),
  );

test('concurrent TransactWriteItems are serializable, as in DynamoDB: one create per item wins, and the counter agrees', async () => {
  const ids = Array.from({ length: 30 }, (_, i) => `item-${i}`);
  const attempts = ids.flatMap((id) => [0, 1, 2, 3].map((writer) => createOnce(id, writer)));
  const outcomes = await Promise.allSettled(attempts);
  const won = outcomes.filter((o) => o.status === 'fulfilled').length;
  const lost = outcomes.filter((o) => o.status === 'rejected');
  expect(won).toBe(ids.length);
  for (const failure of lost) {
    expect((failure as PromiseRejectedResult).reason).toBeInstanceOf(TransactionCanceledException);
    expect(((failure as PromiseRejectedResult).reason as TransactionCanceledException).CancellationReasons?.map((r) => r.Code)).toEqual([
      'ConditionalCheckFailed',
      'None',
    ]);
  }
  const counter = await documents.send(new GetCommand({ TableName: TABLE, Key: { id: 'counter' } }));
  expect(counter.Item?.n).toBe(ids.length);
});

test('a cancelled transaction writes nothing and does not undo writes other requests made meanwhile', async () => {
  await documents.send(new PutCommand({ TableName: TABLE, Item: { id: 'taken' } }));
  const cancelled = Array.from({ length: 20 }, (_, i) =>
    documents.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: TABLE, Item: { id: `half-${i}` } } },
          { Put: { TableName: TABLE, Item: { id: 'taken' }, ConditionExpression: 'attribute_not_exists(id)' } },
        ],
      }),
    ),
  );
  const independent = Array.from({ length: 20 }, (_, i) => documents.send(new PutCommand({ TableName: TABLE, Item: { id: `solo-${i}` } })));
  const results = await Promise.allSettled([...cancelled, ...independent]);
  expect(results.slice(0, 20).every((r) => r.status === 'rejected')).toBe(true);
  expect(results.slice(20).every((r) => r.status === 'fulfilled')).toBe(true);
  for (let i = 0; i < 20; i++) {
    expect((await documents.send(new GetCommand({ TableName: TABLE, Key: { id: `half-${i}` } }))).Item).toBeUndefined();
    expect((await documents.send(new GetCommand({ TableName: TABLE, Key: { id: `solo-${i}` } }))).Item).toEqual({ id: `solo-${i}` });
  }
});
