import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbAdmissionSchedule } from '../adapters/dynamodb-admission-schedule';
import { DynamoDbAuditLog } from '../adapters/dynamodb-audit-log';
import { DynamoDbRequestReader, DynamoDbRequestStore } from '../adapters/dynamodb-request-store';
import { Admission, ChannelPacing } from '../core/admission';
import type { Policy } from '../core/policy';
import type { Clock } from '../core/ports';
import { AWS_CALLS, awsClientConfig } from './clients';
import { ENV, requiredEnv } from './config';

// What the functions keep in DynamoDB: the state table (requests, holders, the admission
// schedule) and the audit table. Retries and timeouts: functions/shared/clients.ts.

export function dynamoDbClient(): DynamoDBClient {
  return new DynamoDBClient(awsClientConfig(AWS_CALLS.dynamoDb));
}

export function requestStore(dynamo: DynamoDBClient, clock: Clock): DynamoDbRequestStore {
  return new DynamoDbRequestStore(dynamo, requiredEnv(ENV.stateTable), clock);
}

/** The store's reads only (the Slack function: it writes no request). */
export function requestReader(dynamo: DynamoDBClient): DynamoDbRequestReader {
  return new DynamoDbRequestReader(dynamo, requiredEnv(ENV.stateTable));
}

/** The audit table itself: appended to only by the audit-writer function, read by the others. */
export function auditTable(dynamo: DynamoDBClient): DynamoDbAuditLog {
  return new DynamoDbAuditLog(dynamo, requiredEnv(ENV.auditTable));
}

/** Admission control at Identity Center's pace (core/admission.ts), as the policy sets it. */
export function admission(dynamo: DynamoDBClient, policy: Policy, clock: Clock): Admission {
  const { callsPerSecond, maxWait } = policy.admission;
  return new Admission(
    new DynamoDbAdmissionSchedule(dynamo, requiredEnv(ENV.stateTable)),
    { callsPerSecond, maxWaitSeconds: maxWait * 60 },
    () => clock.now(),
  );
}

/** Approval posts at each channel's pace (core/admission.ts), waiting at most admission.maxWait. */
export function channelPacing(dynamo: DynamoDBClient, policy: Policy, clock: Clock): ChannelPacing {
  const table = requiredEnv(ENV.stateTable);
  return new ChannelPacing(
    (channel) => new DynamoDbAdmissionSchedule(dynamo, table, `slack-channel#${channel}`),
    policy.admission.maxWait * 60,
    () => clock.now(),
  );
}
