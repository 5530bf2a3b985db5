import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { FunctionName } from './bundling';
import type { ProductFunction } from './product-function';

// Alarms (to the SNS topic) and an optional dashboard. Step Functions has no per-state metric,
// so the distinct failures come from CloudWatch Logs metric filters:
//  - revoke failed: the execution ends in the Fail state with Error "RevokeFailed" (state
//    machine log), or the finish Lambda closes a request with outcome "revoke-failed" (its audit
//    log line) — either one counts, so the alarm does not depend on one log source alone;
//  - orphan found: the reconciler's audit log line with action "reconciler.orphan-found";
//  - sessions not ended: the end-sessions function's audit log line "sessions.end-failed" (a
//    revoke whose user's live role sessions could not be ended: core/session-ending.ts).

export const SLACK_P99_THRESHOLD_MS = 2500;

export interface MonitoringProps {
  topic: sns.ITopic;
  stateMachine: sfn.StateMachine;
  stateMachineLogs: logs.ILogGroup;
  functions: Record<FunctionName, ProductFunction>;
  /** Decision clicks the decisions function could not carry out after Lambda's retries. */
  lostDecisions: sqs.IQueue;
  /** The audit archive: its stream's lag and the records it could not archive. */
  archive: { deadLetters: sqs.IQueue };
  dashboard: boolean;
  dashboardName: string;
}

export class Monitoring extends Construct {
  readonly alarms: Record<string, cloudwatch.Alarm> = {};

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const namespace = `JitAccess/${Stack.of(this).stackName}`;
    const fiveMinutes = Duration.minutes(5);
    const { stateMachine, functions } = props;
    const slack = functions.slack.function;
    const reconciler = functions.reconciler.function;

    const countFilter = (
      filterId: string,
      logGroup: logs.ILogGroup,
      metricName: string,
      pattern: logs.IFilterPattern,
    ) =>
      new logs.MetricFilter(this, filterId, {
        logGroup,
        metricNamespace: namespace,
        metricName,
        filterPattern: pattern,
        metricValue: '1',
      }).metric({ statistic: cloudwatch.Stats.SUM, period: fiveMinutes });

    const revokeFailedExecutions = countFilter(
      'RevokeFailedExecutionsFilter',
      props.stateMachineLogs,
      'RevokeFailedExecutions',
      logs.FilterPattern.all(
        logs.FilterPattern.stringValue('$.type', '=', 'ExecutionFailed'),
        logs.FilterPattern.stringValue('$.details.error', '=', 'RevokeFailed'),
      ),
    );
    const revokeFailedRequests = countFilter(
      'RevokeFailedRequestsFilter',
      functions.finish.logGroup,
      'RevokeFailedRequests',
      logs.FilterPattern.all(
        logs.FilterPattern.stringValue('$.audit.action', '=', 'request.closed'),
        logs.FilterPattern.stringValue('$.audit.details.outcome', '=', 'revoke-failed'),
      ),
    );
    const orphansFound = countFilter(
      'OrphanFoundFilter',
      functions.reconciler.logGroup,
      'OrphansFound',
      logs.FilterPattern.stringValue('$.audit.action', '=', 'reconciler.orphan-found'),
    );

    // Break-glass: every use raises an alarm (besides its Slack alert), and so does a use left
    // unreviewed past its review window (the reconciler's escalation).
    const breakGlassUsed = countFilter(
      'BreakGlassUsedFilter',
      functions.validate.logGroup,
      'BreakGlassUsed',
      logs.FilterPattern.stringValue('$.audit.action', '=', 'breakglass.activated'),
    );
    const breakGlassUnreviewed = countFilter(
      'BreakGlassUnreviewedFilter',
      functions.reconciler.logGroup,
      'BreakGlassUnreviewed',
      logs.FilterPattern.stringValue('$.audit.action', '=', 'breakglass.escalated'),
    );

    const sessionsNotEnded = countFilter(
      'SessionsNotEndedFilter',
      functions['end-sessions'].logGroup,
      'SessionsNotEnded',
      logs.FilterPattern.stringValue('$.audit.action', '=', 'sessions.end-failed'),
    );

    // The approval channel refused a post (the app not invited, the channel archived or gone):
    // nobody can approve until an admin fixes it.
    const approvalChannelUnusable = countFilter(
      'ApprovalChannelUnusableFilter',
      functions['request-approval'].logGroup,
      'ApprovalChannelUnusable',
      logs.FilterPattern.stringValue('$.audit.action', '=', 'approval.channel-unusable'),
    );

    const alarm = (
      alarmId: string,
      metric: cloudwatch.IMetric,
      description: string,
      options: Partial<cloudwatch.CreateAlarmOptions> = {},
    ) => {
      const created = new cloudwatch.Alarm(this, alarmId, {
        metric,
        alarmDescription: description,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        ...options,
      });
      created.addAlarmAction(new actions.SnsAction(props.topic));
      this.alarms[alarmId] = created;
      return created;
    };

    alarm(
      'ExecutionsFailed',
      stateMachine.metricFailed({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM }),
      'An access-request execution failed. Check the execution history; RevokeFailed has its own alarm.',
    );
    alarm(
      'ExecutionsTimedOut',
      stateMachine.metricTimedOut({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM }),
      'An access-request execution hit the state machine timeout; its assignment may still exist.',
    );
    alarm(
      'RevokeFailed',
      new cloudwatch.MathExpression({
        expression: 'FILL(executions, 0) + FILL(requests, 0)',
        usingMetrics: { executions: revokeFailedExecutions, requests: revokeFailedRequests },
        period: fiveMinutes,
        label: 'Revoke failures',
      }),
      'Revoking an assignment failed: access may still be assigned. The reconciler retries; check it.',
    );
    alarm(
      'OrphanFound',
      orphansFound,
      'The reconciler found an assignment this product granted that outlived its window.',
    );
    alarm(
      'SessionsNotEnded',
      sessionsNotEnded,
      "An assignment was deleted but the user's live role sessions could not be ended (deny statement " +
        'or provisioning failed): they stay valid until their session duration ends. See the alert.',
    );
    alarm(
      'ApprovalChannelUnusable',
      approvalChannelUnusable,
      'Slack refused to post an approval request in its channel (the app not invited, the channel ' +
        'archived or gone): the request was rejected and nobody can approve until the channel is fixed.',
    );
    alarm(
      'BreakGlassUsed',
      breakGlassUsed,
      'Someone used a break-glass rule: access was granted without approval. Its reviewers must mark it in Slack.',
    );
    alarm(
      'BreakGlassUnreviewed',
      breakGlassUnreviewed,
      'A break-glass use is still unreviewed past its review window: the security channel was told; review it.',
    );
    alarm(
      'ReconcilerErrors',
      reconciler.metricErrors({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM }),
      'The reconciler failed in 2 of its last 3 runs: the safety net for failed revokes is down.',
      { evaluationPeriods: 3, datapointsToAlarm: 2 },
    );
    alarm(
      'DecisionsLost',
      props.lostDecisions.metricApproximateNumberOfMessagesVisible({
        period: fiveMinutes,
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      'A decision click (approve, deny, end, extend) failed after its retries: the person was not ' +
        'answered. The queue holds the click; check the decisions function log.',
    );
    alarm(
      'AuditWriterErrors',
      functions['audit-writer'].function.metricErrors({
        period: fiveMinutes,
        statistic: cloudwatch.Stats.SUM,
      }),
      'The audit writer refused or failed an event (an overwrite attempt is refused by design): ' +
        'steps retry, but a refusal means something tried to rewrite history.',
    );
    alarm(
      'ArchiveLag',
      functions.archiver.function.metric('IteratorAge', {
        period: fiveMinutes,
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      'The audit archive is more than 15 minutes behind the audit table (archiver failing or throttled): ' +
        "events are safe in the table; the archive will catch up within the stream's 24 hours.",
      { threshold: 15 * 60 * 1000, evaluationPeriods: 3, datapointsToAlarm: 2 },
    );
    alarm(
      'ArchiveDeadLetters',
      props.archive.deadLetters.metricApproximateNumberOfMessagesVisible({
        period: fiveMinutes,
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      'Audit events were not archived after a day of retries: the queue names the stream records. ' +
        'The table still holds every event; copy the missing ones from it (docs/AUDIT.md).',
    );
    alarm(
      'SlackErrors',
      slack.metricErrors({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM }),
      'The Slack endpoint function threw: people see errors in Slack.',
    );
    alarm(
      'SlackLatencyP99',
      slack.metricDuration({ period: fiveMinutes, statistic: cloudwatch.Stats.p(99) }),
      `Slack endpoint p99 duration over ${SLACK_P99_THRESHOLD_MS} ms: Slack gives up after 3 s.`,
      {
        threshold: SLACK_P99_THRESHOLD_MS,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      },
    );

    if (!props.dashboard) return;
    const workers = (Object.keys(functions) as FunctionName[]).filter((n) => n !== 'slack');
    new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName,
      defaultInterval: Duration.days(1),
      widgets: [
        [
          new cloudwatch.GraphWidget({
            title: 'Access requests (executions)',
            width: 12,
            left: [
              stateMachine.metricStarted({ period: fiveMinutes }),
              stateMachine.metricSucceeded({ period: fiveMinutes }),
              stateMachine.metricFailed({ period: fiveMinutes }),
              stateMachine.metricTimedOut({ period: fiveMinutes }),
              stateMachine.metricAborted({ period: fiveMinutes }),
            ],
          }),
          new cloudwatch.AlarmStatusWidget({
            title: 'Alarms',
            width: 12,
            alarms: Object.values(this.alarms),
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Slack endpoint duration (ms)',
            width: 8,
            left: [
              slack.metricDuration({ period: fiveMinutes, statistic: cloudwatch.Stats.p(50) }),
              slack.metricDuration({ period: fiveMinutes, statistic: cloudwatch.Stats.p(99) }),
            ],
            leftAnnotations: [{ value: SLACK_P99_THRESHOLD_MS, label: 'p99 alarm' }],
          }),
          new cloudwatch.GraphWidget({
            title: 'Revoke failures and orphans',
            width: 8,
            left: [revokeFailedExecutions, revokeFailedRequests, orphansFound],
          }),
          new cloudwatch.GraphWidget({
            title: 'Function errors',
            width: 8,
            left: [slack, ...workers.map((n) => functions[n].function)].map((f) =>
              f.metricErrors({ period: fiveMinutes, label: f.node.scope?.node.id ?? f.node.id }),
            ),
          }),
        ],
      ],
    });
  }
}
