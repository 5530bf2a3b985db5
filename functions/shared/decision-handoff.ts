import { LambdaDecisionHandoff } from '../adapters/lambda-decisions';
import { LambdaInvoker } from '../adapters/lambda-invoke';
import { AWS_CALLS } from './clients';
import { ENV, requiredEnv } from './config';

/** How the Slack function passes a decision click on: an asynchronous invoke of DECISIONS_FUNCTION, within its 10 s. */
export function decisionHandoff(): LambdaDecisionHandoff {
  return new LambdaDecisionHandoff(
    new LambdaInvoker(AWS_CALLS.asyncInvoke),
    requiredEnv(ENV.decisionsFunction),
  );
}
