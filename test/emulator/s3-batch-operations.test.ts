import { GetObjectCommand, HeadObjectCommand, PutBucketVersioningCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { CreateJobCommand, DescribeJobCommand, ListJobsCommand, S3ControlClient, UpdateJobStatusCommand, type JobReport } from '@aws-sdk/client-s3-control';
import { describe, expect, test } from 'vitest';
import { awsError, customerKey, newBucket, newKmsKey, s3 } from './helpers.ts';

const ACCOUNT = '123456789012';
// The S3 Control endpoint rules put the account id in the host name ("<account>.127.0.0.1" is no
// host): against the emulator the requests go to the endpoint as given.
const control = new S3ControlClient({ endpointProvider: () => ({ url: new URL(process.env.AWS_ENDPOINT_URL!) }) });

async function manifest(bucket: string, lines: string[]) {
  const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'manifests/m.csv', Body: lines.join('\n') + '\n' }));
  return { ObjectArn: `arn:aws:s3:::${bucket}/manifests/m.csv`, ETag: put.ETag! };
}

const report = (bucket: string, ReportScope: JobReport['ReportScope'] = 'AllTasks'): JobReport => ({
  Bucket: `arn:aws:s3:::${bucket}`,
  Format: 'Report_CSV_20180820',
  Enabled: true,
  Prefix: 'reports',
  ReportScope,
});

function createJob(Location: { ObjectArn: string; ETag: string }, keyArn: string, Report: JobReport, extra: { ConfirmationRequired?: boolean; versions?: boolean; token?: string } = {}) {
  return new CreateJobCommand({
    AccountId: ACCOUNT,
    ConfirmationRequired: extra.ConfirmationRequired ?? false,
    Operation: { S3UpdateObjectEncryption: { ObjectEncryption: { SSEKMS: { KMSKeyArn: keyArn, BucketKeyEnabled: true } } } },
    Manifest: { Spec: { Format: 'S3BatchOperations_CSV_20180820', Fields: extra.versions ? ['Bucket', 'Key', 'VersionId'] : ['Bucket', 'Key'] }, Location },
    Report,
    Priority: 10,
    RoleArn: `arn:aws:iam::${ACCOUNT}:role/batch`,
    ClientRequestToken: extra.token ?? crypto.randomUUID(),
  });
}

async function text(Bucket: string, Key: string) {
  return (await s3.send(new GetObjectCommand({ Bucket, Key }))).Body!.transformToString();
}

describe('S3 Batch Operations runs S3UpdateObjectEncryption over a CSV manifest', () => {
  test('every listed object is updated in place; the job completes with counts and writes the completion report in the AWS layout', async () => {
    const Bucket = await newBucket();
    const reports = await newBucket('r');
    const key = await newKmsKey();
    const ssec = customerKey();
    await s3.send(new PutObjectCommand({ Bucket, Key: 'a b.txt', Body: 'a' }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'c.txt', Body: 'c' }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'cust', Body: 'x', SSECustomerAlgorithm: 'AES256', SSECustomerKey: ssec.key, SSECustomerKeyMD5: ssec.md5 }));
    const before = await s3.send(new HeadObjectCommand({ Bucket, Key: 'a b.txt' }));
    const location = await manifest(Bucket, [`${Bucket},a+b.txt`, `${Bucket},c.txt`, `${Bucket},cust`, `${Bucket},missing`]);

    const { JobId } = await control.send(createJob(location, key.arn, report(reports)));
    const { Job } = await control.send(new DescribeJobCommand({ AccountId: ACCOUNT, JobId }));
    expect(Job).toMatchObject({ JobId, Status: 'Complete', Priority: 10, ProgressSummary: { TotalNumberOfTasks: 4, NumberOfTasksSucceeded: 2, NumberOfTasksFailed: 2 } });
    expect(Job?.Operation?.S3UpdateObjectEncryption?.ObjectEncryption?.SSEKMS?.KMSKeyArn).toBe(key.arn);

    const after = await s3.send(new HeadObjectCommand({ Bucket, Key: 'a b.txt' }));
    expect(after).toMatchObject({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key.arn, BucketKeyEnabled: true, ETag: before.ETag });
    expect((await s3.send(new HeadObjectCommand({ Bucket, Key: 'c.txt' }))).SSEKMSKeyId).toBe(key.arn);

    const top = JSON.parse(await text(reports, `reports/job-${JobId}/manifest.json`));
    expect(top).toMatchObject({ Format: 'Report_CSV_20180820', ReportSchema: 'Bucket, Key, VersionId, TaskStatus, ErrorCode, HTTPStatusCode, ResultMessage' });
    const byStatus = Object.fromEntries(top.Results.map((r: { TaskExecutionStatus: string; Key: string }) => [r.TaskExecutionStatus, r.Key]));
    expect(byStatus['succeeded']).toMatch(new RegExp(`^reports/job-${JobId}/results/[0-9a-f]{40}\\.csv$`));
    expect((await text(reports, byStatus['succeeded'])).trim().split('\n').sort()).toEqual([`${Bucket},a+b.txt,,succeeded,200,,Successful`, `${Bucket},c.txt,,succeeded,200,,Successful`]);
    const failed = (await text(reports, byStatus['failed'])).trim().split('\n').sort();
    expect(failed[0]).toMatch(new RegExp(`^${Bucket},cust,,failed,400,InvalidRequest,.*DSSE-KMS or SSE-C`));
    expect(failed[1]).toMatch(new RegExp(`^${Bucket},missing,,failed,404,NoSuchKey,`));
  });

  test('a versioned manifest updates the named version; FailedTasksOnly writes only the failures', async () => {
    const Bucket = await newBucket();
    const key = await newKmsKey();
    await s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    const v1 = (await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: '1' }))).VersionId!;
    await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: '2' }));
    const location = await manifest(Bucket, [`${Bucket},k,${v1}`]);
    const { JobId } = await control.send(createJob(location, key.arn, report(Bucket, 'FailedTasksOnly'), { versions: true }));
    expect((await s3.send(new HeadObjectCommand({ Bucket, Key: 'k', VersionId: v1 }))).SSEKMSKeyId).toBe(key.arn);
    expect((await s3.send(new HeadObjectCommand({ Bucket, Key: 'k' }))).ServerSideEncryption).toBe('AES256');
    const top = JSON.parse(await text(Bucket, `reports/job-${JobId}/manifest.json`));
    expect(top.Results).toEqual([]);
  });

  test('ConfirmationRequired holds the job Suspended until UpdateJobStatus Ready; ListJobs filters by status; the same token is the same job', async () => {
    const Bucket = await newBucket();
    const key = await newKmsKey();
    await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x' }));
    const location = await manifest(Bucket, [`${Bucket},k`]);
    const token = crypto.randomUUID();
    const { JobId } = await control.send(createJob(location, key.arn, report(Bucket), { ConfirmationRequired: true, token }));
    expect((await control.send(createJob(location, key.arn, report(Bucket), { ConfirmationRequired: true, token }))).JobId).toBe(JobId);
    expect((await control.send(new DescribeJobCommand({ AccountId: ACCOUNT, JobId }))).Job?.Status).toBe('Suspended');
    expect((await s3.send(new HeadObjectCommand({ Bucket, Key: 'k' }))).ServerSideEncryption).toBe('AES256');
    const suspended = await control.send(new ListJobsCommand({ AccountId: ACCOUNT, JobStatuses: ['Suspended'] }));
    expect(suspended.Jobs?.map((j) => j.JobId)).toContain(JobId);

    const updated = await control.send(new UpdateJobStatusCommand({ AccountId: ACCOUNT, JobId, RequestedJobStatus: 'Ready' }));
    expect(updated.Status).toBe('Complete');
    expect((await s3.send(new HeadObjectCommand({ Bucket, Key: 'k' }))).SSEKMSKeyId).toBe(key.arn);
    const complete = await control.send(new ListJobsCommand({ AccountId: ACCOUNT, JobStatuses: ['Complete'] }));
    expect(complete.Jobs?.find((j) => j.JobId === JobId)).toMatchObject({ Operation: 'S3UpdateObjectEncryption', ProgressSummary: { NumberOfTasksSucceeded: 1 } });
  });

  test('a manifest whose ETag is not the one named fails the job and changes nothing; other operations are refused', async () => {
    const Bucket = await newBucket();
    const key = await newKmsKey();
    await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x' }));
    const location = await manifest(Bucket, [`${Bucket},k`]);
    const { JobId } = await control.send(createJob({ ...location, ETag: '"0123456789abcdef0123456789abcdef"' }, key.arn, report(Bucket)));
    const { Job } = await control.send(new DescribeJobCommand({ AccountId: ACCOUNT, JobId }));
    expect(Job?.Status).toBe('Failed');
    expect(Job?.FailureReasons?.[0]?.FailureReason).toMatch(/ETag/);
    expect((await s3.send(new HeadObjectCommand({ Bucket, Key: 'k' }))).ServerSideEncryption).toBe('AES256');

    const refused = await awsError(
      control.send(
        new CreateJobCommand({
          AccountId: ACCOUNT,
          Operation: { S3PutObjectTagging: { TagSet: [] } },
          Manifest: { Spec: { Format: 'S3BatchOperations_CSV_20180820', Fields: ['Bucket', 'Key'] }, Location: location },
          Report: report(Bucket),
          Priority: 1,
          RoleArn: `arn:aws:iam::${ACCOUNT}:role/batch`,
          ClientRequestToken: crypto.randomUUID(),
        }),
      ),
    );
    expect(refused).toMatchObject({ status: 400, name: 'InvalidRequest' });
  });
});
