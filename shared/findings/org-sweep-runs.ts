// Where an Organization sweep keeps its record, in the findings table (keys in findings/table.ts):
//   ORGSWEEPS            <runId>                 the run: accounts in scope, when all their messages were sent
//   ORGSWEEP#<runId>     ACCOUNT#<id>            an account listed (Regions, bucket count) or a gap and why
//   ORGSWEEP#<runId>     UNIT#<id>#<region>      one account × Region unit: buckets in order, progress, tallies, gaps
//   ORGSWEEP#<runId>     PAGE#<id>#<region>#…    one page counted, the unit's next step, whether it was sent
// Every first write is conditional (attribute_not_exists), so a message delivered twice records once;
// a page's marker and its tallies go in one transaction, so a page is counted once.
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { OrgUnitStep } from '../domain/org-unit-step.ts';
import type { Verdict } from '../domain/verdict.ts';
import { queryAll, transactWrite, withRetries, type TransactItem } from './dynamodb-writes.ts';
import { ORG_SWEEPS_PK, orgSweepAccountKey, orgSweepPageKey, orgSweepPk, orgSweepRunKey, orgSweepUnitKey } from './table.ts';

export interface OrgSweepRun {
  runId: string;
  startedAt: string;
  organizationId: string;
  /** The accounts in scope (ACTIVE, OU/tag filters, exclusions and the central account applied). */
  accounts: string[];
  /** Every account's message is on the queue (a tick that stopped before re-sends them: idempotent). */
  enqueuedAt?: string;
}

export interface OrgUnitGap {
  account: string;
  region?: string;
  bucket?: string;
  reason: string;
}

export type OrgAccountRecord =
  | { account: string; status: 'listed'; regions: string[]; buckets: number; unitsSentAt?: string }
  | { account: string; status: 'gap'; reason: string };

export interface OrgUnitRecord {
  account: string;
  region: string;
  /** The unit's buckets, in the order it walks them. */
  buckets: string[];
  bucketsDone: number;
  pagesAudited: number;
  objectsAudited: number;
  verdicts: Partial<Record<Verdict, number>>;
  gaps: OrgUnitGap[];
}

export interface OrgPageRef {
  runId: string;
  account: string;
  region: string;
  bucketIndex: number;
  page: number;
}

export interface OrgPageMarker {
  /** The unit's next step after this page; none: the unit is done. */
  next?: OrgUnitStep;
  nextSentAt?: string;
}

export interface OrgPageTally {
  objects: number;
  verdicts: Partial<Record<Verdict, number>>;
  /** This page was the bucket's last (or the bucket is a gap). */
  bucketDone: boolean;
  gap?: OrgUnitGap;
  next?: OrgUnitStep;
}

/** How far a run got, per account: covered, partial (some bucket a gap), gap (not reached), pending (not done yet). */
export interface OrgSweepCoverage {
  run: OrgSweepRun;
  status: 'in-progress' | 'complete';
  accounts: { account: string; status: 'covered' | 'partial' | 'gap' | 'pending'; regions: string[]; buckets: number; bucketsDone: number; objects: number }[];
  gaps: OrgUnitGap[];
  objectsAudited: number;
  verdicts: Partial<Record<Verdict, number>>;
}

const conditionFailed = (error: unknown): boolean =>
  error instanceof TransactionCanceledException
    ? (error.CancellationReasons ?? []).some((r) => r.Code === 'ConditionalCheckFailed')
    : (error as { name?: string }).name === 'ConditionalCheckFailedException';

const strip = <T>({ pk: _pk, sk: _sk, ...item }: Record<string, unknown>): T => item as T;

export class OrgSweepRuns {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  private async get<T>(key: { pk: string; sk: string }): Promise<T | undefined> {
    const { Item } = await withRetries('GetItem', () => this.documents.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true })));
    return Item ? strip<T>(Item) : undefined;
  }

  // ── the sweep ────────────────────────────────────────────────────────────────────────────

  /** The newest run. */
  async latest(): Promise<OrgSweepRun | undefined> {
    const { Items = [] } = await withRetries('Query', () =>
      this.documents.send(
        new QueryCommand({ TableName: this.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': ORG_SWEEPS_PK }, ScanIndexForward: false, Limit: 1, ConsistentRead: true }),
      ),
    );
    return Items[0] ? strip<OrgSweepRun>(Items[0]) : undefined;
  }

  async start(run: OrgSweepRun): Promise<void> {
    await withRetries('PutItem', () =>
      this.documents.send(new PutCommand({ TableName: this.tableName, Item: { ...orgSweepRunKey(run.runId), ...run }, ConditionExpression: 'attribute_not_exists(pk)' })),
    );
  }

  async markEnqueued(runId: string, at: string): Promise<void> {
    await withRetries('UpdateItem', () =>
      this.documents.send(new UpdateCommand({ TableName: this.tableName, Key: orgSweepRunKey(runId), UpdateExpression: 'SET enqueuedAt = :at', ExpressionAttributeValues: { ':at': at } })),
    );
  }

  // ── the worker: accounts ─────────────────────────────────────────────────────────────────

  account(runId: string, account: string): Promise<OrgAccountRecord | undefined> {
    return this.get<OrgAccountRecord>(orgSweepAccountKey(runId, account));
  }

  /**
   * Records what an account holds — its units, one per Region — or why it could not be reached, once:
   * false when an earlier delivery already recorded it.
   */
  async recordAccount(runId: string, record: OrgAccountRecord, units: Pick<OrgUnitRecord, 'region' | 'buckets'>[] = []): Promise<boolean> {
    const items: TransactItem[] = [
      { Put: { TableName: this.tableName, Item: { ...orgSweepAccountKey(runId, record.account), ...record }, ConditionExpression: 'attribute_not_exists(pk)' } },
      ...units.map((unit) => ({
        Put: {
          TableName: this.tableName,
          Item: { ...orgSweepUnitKey(runId, record.account, unit.region), account: record.account, ...unit, bucketsDone: 0, pagesAudited: 0, objectsAudited: 0, verdicts: {}, gaps: [] },
        },
      })),
    ];
    try {
      await transactWrite(this.documents, items);
      return true;
    } catch (error) {
      if (conditionFailed(error)) return false;
      throw error;
    }
  }

  async markUnitsSent(runId: string, account: string, at: string): Promise<void> {
    await withRetries('UpdateItem', () =>
      this.documents.send(new UpdateCommand({ TableName: this.tableName, Key: orgSweepAccountKey(runId, account), UpdateExpression: 'SET unitsSentAt = :at', ExpressionAttributeValues: { ':at': at } })),
    );
  }

  // ── the worker: units and pages ──────────────────────────────────────────────────────────

  unit(runId: string, account: string, region: string): Promise<OrgUnitRecord | undefined> {
    return this.get<OrgUnitRecord>(orgSweepUnitKey(runId, account, region));
  }

  page(ref: OrgPageRef): Promise<OrgPageMarker | undefined> {
    return this.get<OrgPageMarker>(orgSweepPageKey(ref.runId, ref.account, ref.region, ref.bucketIndex, ref.page));
  }

  /** Counts a page into its unit, once however often it was delivered: false when it was counted before. */
  async countPage(ref: OrgPageRef, tally: OrgPageTally): Promise<boolean> {
    const entries = Object.entries(tally.verdicts);
    const names: Record<string, string> = Object.fromEntries(entries.map(([v], i) => [`#v${i}`, v]));
    const values: Record<string, unknown> = {
      ':one': 1,
      ':objects': tally.objects,
      ':done': tally.bucketDone ? 1 : 0,
      ...Object.fromEntries(entries.map(([, n], i) => [`:n${i}`, n])),
      ...(tally.gap ? { ':gap': [tally.gap], ':none': [] } : {}),
    };
    try {
      await transactWrite(this.documents, [
        {
          Put: {
            TableName: this.tableName,
            Item: { ...orgSweepPageKey(ref.runId, ref.account, ref.region, ref.bucketIndex, ref.page), objects: tally.objects, ...(tally.next ? { next: tally.next } : {}) },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        {
          Update: {
            TableName: this.tableName,
            Key: orgSweepUnitKey(ref.runId, ref.account, ref.region),
            UpdateExpression:
              `ADD pagesAudited :one, objectsAudited :objects, bucketsDone :done${entries.map((_, i) => `, verdicts.#v${i} :n${i}`).join('')}` +
              (tally.gap ? ' SET gaps = list_append(if_not_exists(gaps, :none), :gap)' : ''),
            ...(entries.length ? { ExpressionAttributeNames: names } : {}),
            ExpressionAttributeValues: values,
          },
        },
      ]);
      return true;
    } catch (error) {
      if (conditionFailed(error)) return false;
      throw error;
    }
  }

  async markPageSent(ref: OrgPageRef, at: string): Promise<void> {
    await withRetries('UpdateItem', () =>
      this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: orgSweepPageKey(ref.runId, ref.account, ref.region, ref.bucketIndex, ref.page),
          UpdateExpression: 'SET nextSentAt = :at',
          ExpressionAttributeValues: { ':at': at },
        }),
      ),
    );
  }

  // ── reading a run ────────────────────────────────────────────────────────────────────────

  /** A run's items of one kind (ACCOUNT# or UNIT#; never the page markers). */
  private async items<T>(runId: string, prefix: 'ACCOUNT#' | 'UNIT#'): Promise<T[]> {
    const items = await queryAll(this.documents, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :kind)',
      ExpressionAttributeValues: { ':pk': orgSweepPk(runId), ':kind': prefix },
      ConsistentRead: true,
    });
    return items.map((item) => strip<T>(item));
  }

  /** A run's coverage: an account not yet done is pending, never covered; a run with one is in progress. */
  async coverage(runId: string): Promise<OrgSweepCoverage | undefined> {
    const run = await this.get<OrgSweepRun>(orgSweepRunKey(runId));
    if (!run) return undefined;
    const accounts = new Map((await this.items<OrgAccountRecord>(runId, 'ACCOUNT#')).map((a) => [a.account, a]));
    const units = new Map<string, OrgUnitRecord[]>();
    for (const unit of await this.items<OrgUnitRecord>(runId, 'UNIT#')) units.set(unit.account, [...(units.get(unit.account) ?? []), unit]);

    const coverage: OrgSweepCoverage = { run, status: 'complete', accounts: [], gaps: [], objectsAudited: 0, verdicts: {} };
    for (const id of run.accounts) {
      const record = accounts.get(id);
      if (record?.status === 'gap') {
        coverage.accounts.push({ account: id, status: 'gap', regions: [], buckets: 0, bucketsDone: 0, objects: 0 });
        coverage.gaps.push({ account: id, reason: record.reason });
        continue;
      }
      const own = units.get(id) ?? [];
      const bucketsDone = own.reduce((n, u) => n + u.bucketsDone, 0);
      const objects = own.reduce((n, u) => n + u.objectsAudited, 0);
      const gaps = own.flatMap((u) => u.gaps ?? []);
      coverage.gaps.push(...gaps);
      coverage.objectsAudited += objects;
      for (const u of own) for (const [v, n] of Object.entries(u.verdicts ?? {})) coverage.verdicts[v as Verdict] = (coverage.verdicts[v as Verdict] ?? 0) + (n ?? 0);
      const done = record !== undefined && bucketsDone >= record.buckets;
      coverage.accounts.push({
        account: id,
        status: !done ? 'pending' : gaps.length > 0 ? 'partial' : 'covered',
        regions: record?.regions ?? [],
        buckets: record?.buckets ?? 0,
        bucketsDone,
        objects,
      });
    }
    if (!run.enqueuedAt || coverage.accounts.some((a) => a.status === 'pending')) coverage.status = 'in-progress';
    return coverage;
  }
}
