// patches/dynamodb_transaction_tokens.py: TransactWriteItems with a ClientRequestToken is idempotent.
import { CreateTableCommand, DynamoDBClient, GetItemCommand, TransactWriteItemsCommand, type TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { randomUUID } from 'node:crypto';
import { beforeAll, expect, test } from 'vitest';
import { awsError } from './helpers.ts';

const dynamodb = new DynamoDBClient({});
const TableName = 'transaction-tokens';

beforeAll(async () => {
  await dynamodb.send(
    new CreateTableCommand({
      TableName,
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
});

const items = (id: string): TransactWriteItem[] => [
  { Put: { TableName, Item: { pk: { S: `marker-${id}` } }, ConditionExpression: 'attribute_not_exists(pk)' } },
  { Update: { TableName, Key: { pk: { S: 'counter' } }, UpdateExpression: 'ADD n :one', ExpressionAttributeValues: { ':one': { N: '1' } } } },
];

test('a repeated transaction with the same token succeeds without applying again, though its condition no longer holds', async () => {
  const token = randomUUID();
  await dynamodb.send(new TransactWriteItemsCommand({ TransactItems: items('a'), ClientRequestToken: token }));
  await dynamodb.send(new TransactWriteItemsCommand({ TransactItems: items('a'), ClientRequestToken: token }));
  const { Item } = await dynamodb.send(new GetItemCommand({ TableName, Key: { pk: { S: 'counter' } } }));
  expect(Item?.n).toEqual({ N: '1' });
  // Without a token (or with a new one) the same items are a new transaction: its condition fails.
  expect(await awsError(dynamodb.send(new TransactWriteItemsCommand({ TransactItems: items('a'), ClientRequestToken: randomUUID() })))).toMatchObject({
    name: 'TransactionCanceledException',
  });
});

test('the same token with other items is refused with IdempotentParameterMismatchException', async () => {
  const token = randomUUID();
  await dynamodb.send(new TransactWriteItemsCommand({ TransactItems: items('b'), ClientRequestToken: token }));
  expect(await awsError(dynamodb.send(new TransactWriteItemsCommand({ TransactItems: items('c'), ClientRequestToken: token })))).toMatchObject({
    name: 'IdempotentParameterMismatchException',
    status: 400,
  });
});
