import { LambdaClient } from '@aws-sdk/client-lambda';
import { LambdaDecisionHandoff } from '../adapters/lambda-decisions';
import { AWS_CALLS, awsClientConfig } from './clients';
import { ENV, requiredEnv } from './config';

/** How the Slack function passes a decision click on: an asynchronous invoke of DECISIONS_FUNCTION, within its 10 s. */
export function decisionHandoff(): LambdaDecisionHandoff {
  return new LambdaDecisionHandoff(
    new LambdaClient(awsClientConfig(AWS_CALLS.asyncInvoke)),
    requiredEnv(ENV.decisionsFunction),
  );
}
