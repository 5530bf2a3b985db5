import { SFNClient } from '@aws-sdk/client-sfn';
import { StepFunctionsWorkflow } from '../adapters/step-functions-workflow';
import { AWS_CALLS, awsClientConfig } from './clients';
import { ENV, requiredEnv } from './config';

/** The access-request state machine: started by the Slack function, signalled by decisions, read by the reconciler. */
export function stepFunctionsWorkflow(): StepFunctionsWorkflow {
  return new StepFunctionsWorkflow(
    new SFNClient(awsClientConfig(AWS_CALLS.stepFunctions)),
    requiredEnv(ENV.stateMachineArn),
  );
}
