import { SFNClient } from '@aws-sdk/client-sfn';
import { StepFunctionsExecutions, StepFunctionsWorkflow } from '../adapters/step-functions-workflow';
import { AWS_CALLS, awsClientConfig } from './clients';
import { ENV, requiredEnv } from './config';

/** The access-request state machine: started by the Slack function, signalled by decisions, read by the reconciler. */
export function stepFunctionsWorkflow(): StepFunctionsWorkflow {
  return new StepFunctionsWorkflow(
    new SFNClient(awsClientConfig(AWS_CALLS.stepFunctions)),
    requiredEnv(ENV.stateMachineArn),
  );
}

/** Starting executions only: the Slack function's part of the workflow. */
export function stepFunctionsExecutions(): StepFunctionsExecutions {
  return new StepFunctionsExecutions(
    new SFNClient(awsClientConfig(AWS_CALLS.stepFunctions)),
    requiredEnv(ENV.stateMachineArn),
  );
}
