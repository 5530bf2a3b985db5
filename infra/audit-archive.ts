import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV } from '../functions/shared/config';
import { AUDIT_QUERIES, roleSessionQuery } from './audit-queries';
import { acknowledge, acknowledgeWildcardResources } from './nag';
import type { ProductFunction } from './product-function';

// The immutable archive of the audit trail (docs/AUDIT.md): the audit table's stream feeds the
// archiver, which puts each linked event once into an S3 bucket with Object Lock in compliance
// mode. Streams + a small function rather than Firehose: Firehose buffers and batches records
// into its own object names and cannot do a conditional put, so a redelivered record would be a
// second copy; one object per link (request, number) makes "exactly once" a key that exists.

export interface AuditArchiveProps {
  auditTable: dynamodb.Table;
  archiver: ProductFunction;
  /** Object Lock retention in days (cdk.json auditRetentionDays, default 400). */
  retentionDays: number;
  /** An organization CloudTrail table in Athena: adds the role-session query. */
  orgTrailTable?: string;
}

/** Actions no principal may take on archived objects (Object Lock stops most already; this says so twice). */
export const ARCHIVE_DENIED_ACTIONS = [
  's3:DeleteObject',
  's3:DeleteObjectVersion',
  's3:PutObjectRetention',
  's3:BypassGovernanceRetention',
  's3:PutObjectLegalHold',
  's3:PutBucketObjectLockConfiguration',
];

export class AuditArchive extends Construct {
  readonly bucket: s3.Bucket;
  readonly deadLetters: sqs.Queue;
  readonly database: glue.CfnDatabase;
  readonly table: glue.CfnTable;

  constructor(scope: Construct, id: string, props: AuditArchiveProps) {
    super(scope, id);
    const { auditTable, archiver } = props;

    this.bucket = new s3.Bucket(this, 'Bucket', {
      objectLockEnabled: true,
      objectLockDefaultRetention: s3.ObjectLockRetention.compliance(Duration.days(props.retentionDays)),
      versioned: true,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledge(
      this.bucket,
      'AwsSolutions-S1',
      'Reads of the archive are recorded by CloudTrail (enable S3 data events on this bucket for ' +
        'object-level reads, docs/AUDIT.md); writes come only from the archiver, once per key.',
    );
    // Nobody overwrites an event: every PutObject must carry If-None-Match (a write of a new key
    // only) — https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes-enforce.html
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlyNewObjects',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:PutObject'],
        resources: [this.bucket.arnForObjects('*')],
        conditions: { Null: { 's3:if-none-match': 'true' } },
      }),
    );
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'ArchivedEventsAreNeverDeletedOrUnlocked',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ARCHIVE_DENIED_ACTIONS,
        resources: [this.bucket.bucketArn, this.bucket.arnForObjects('*')],
      }),
    );

    archiver.setEnv(ENV.auditArchiveBucket, this.bucket.bucketName);
    archiver.bindAuditTable(auditTable, 'read');
    const putNew = new iam.PolicyStatement({
      sid: 'ArchiveNewObjects',
      actions: ['s3:PutObject'],
      resources: [this.bucket.arnForObjects('events/*')],
      conditions: { Null: { 's3:if-none-match': 'false' } },
    });
    archiver.role.addToPolicy(putNew);
    acknowledgeWildcardResources(
      archiver.role,
      putNew,
      'One object per event under events/ of the archive bucket, only as a new key (If-None-Match): ' +
        'the keys are made of request ids and link numbers, not known in advance.',
    );

    // Records the archiver still fails once the stream's retries give out (their metadata: the
    // shard and sequence numbers to replay from), alarmed.
    this.deadLetters = new sqs.Queue(this, 'DeadLetters', {
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    acknowledge(
      this.deadLetters,
      'AwsSolutions-SQS3',
      'This queue is itself the failure destination of the archive stream: nothing consumes it.',
    );
    archiver.function.addEventSource(
      new DynamoEventSource(auditTable, {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: 100,
        // One batch per shard at a time: a request's links arrive in order.
        parallelizationFactor: 1,
        reportBatchItemFailures: true,
        // Retried until the record would leave the stream (24 hours), then kept in the queue.
        retryAttempts: 10_000,
        maxRecordAge: Duration.hours(24),
        onFailure: new SqsDlq(this.deadLetters),
        filters: [
          lambda.FilterCriteria.filter({
            eventName: lambda.FilterRule.isEqual('INSERT'),
            dynamodb: { NewImage: { sk: { S: lambda.FilterRule.beginsWith('CHAIN#') } } },
          }),
        ],
      }),
    );

    acknowledge(
      archiver.role,
      'AwsSolutions-IAM5[Resource::*]',
      'Added by the DynamoDB event source: dynamodb:ListStreams has no resource-level permissions; ' +
        "reading the stream itself is granted on this table's stream only.",
    );

    // Glue table over the archive (one JSON object per file), partitioned by date with partition
    // projection (no crawler, no partition maintenance), and Athena named queries over it.
    const account = Stack.of(this).account;
    const databaseName = `${Stack.of(this)
      .stackName.toLowerCase()
      .replace(/[^a-z0-9_]/g, '_')}_audit`;
    this.database = new glue.CfnDatabase(this, 'Database', {
      catalogId: account,
      databaseInput: { name: databaseName, description: 'jit-access audit archive (docs/AUDIT.md)' },
    });
    this.table = new glue.CfnTable(this, 'EventsTable', {
      catalogId: account,
      databaseName,
      tableInput: {
        name: 'events',
        tableType: 'EXTERNAL_TABLE',
        parameters: {
          classification: 'json',
          'projection.enabled': 'true',
          'projection.date.type': 'date',
          'projection.date.format': 'yyyy-MM-dd',
          'projection.date.range': '2026-01-01,NOW',
          'projection.date.interval': '1',
          'projection.date.interval.unit': 'DAYS',
          'storage.location.template': `s3://${this.bucket.bucketName}/events/date=\${date}/`,
        },
        partitionKeys: [{ name: 'date', type: 'string' }],
        storageDescriptor: {
          location: `s3://${this.bucket.bucketName}/events/`,
          inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
          outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
          serdeInfo: { serializationLibrary: 'org.openx.data.jsonserde.JsonSerDe' },
          columns: [
            { name: 'version', type: 'int' },
            { name: 'requestid', type: 'string' },
            { name: 'eventid', type: 'string' },
            { name: 'at', type: 'string' },
            { name: 'actor', type: 'string' },
            { name: 'action', type: 'string' },
            { name: 'outcome', type: 'string' },
            { name: 'details', type: 'string', comment: 'JSON object, read with json_extract_scalar' },
            { name: 'seq', type: 'int' },
            { name: 'prevhash', type: 'string' },
            { name: 'hash', type: 'string' },
          ],
        },
      },
    });
    this.table.addResourceDependency(this.database);
    const queries = {
      ...AUDIT_QUERIES,
      ...(props.orgTrailTable ? { 'role-session-calls': roleSessionQuery(props.orgTrailTable) } : {}),
    };
    for (const [name, query] of Object.entries(queries)) {
      const named = new athena.CfnNamedQuery(
        this,
        `Query${name.replace(/(^|-)(\w)/g, (_m, _d, c: string) => c.toUpperCase())}`,
        {
          database: databaseName,
          name: `${Stack.of(this).stackName}-${name}`,
          description: query.description,
          queryString: query.sql,
        },
      );
      named.addResourceDependency(this.table);
    }
  }
}
