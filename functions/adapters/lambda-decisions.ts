import { randomUUID } from 'node:crypto';
import type { DecisionHandoff, DecisionJob } from '../slack/decision-job';
import type { LambdaInvoke } from './lambda-invoke';

// Hands a decision click to the decisions function as an asynchronous invocation
// (InvocationType Event: Lambda queues it and answers 202 at once), so Slack gets its
// acknowledgement after one call, and the Slack function's role needs no permission to decide.
// Lambda retries a failed asynchronous invocation twice
// (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html); every decision is
// first-wins in the request record, so a retried job decides nothing twice; each job gets an id
// here, which the extension decisions record so that a retried job asks for nothing twice either.

export class LambdaDecisionHandoff implements DecisionHandoff {
  constructor(
    private readonly lambda: LambdaInvoke,
    private readonly decisionsFunction: string,
  ) {}

  async submit(job: DecisionJob): Promise<void> {
    await this.lambda.invoke({
      FunctionName: this.decisionsFunction,
      InvocationType: 'Event',
      Payload: new TextEncoder().encode(JSON.stringify({ ...job, jobId: job.jobId ?? randomUUID() })),
    });
  }
}
