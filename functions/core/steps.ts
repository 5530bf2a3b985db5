import { AssignmentSteps } from './steps/assignment';
import type { StepDependencies } from './steps/base';
import { FinishStep } from './steps/finish';
import { RequestApprovalStep } from './steps/request-approval';
import { ValidateStep } from './steps/validate';
import { WindowSteps } from './steps/window';

// The lifecycle's steps put together, one method per state machine task, for whoever runs them
// all in one place: the local stack, the tests, the fault campaign. Each task's rules live in its
// own module under core/steps/ (base.ts says what every step keeps to); a Lambda imports only its
// own, so the steps run here are the deployed ones.

export class LifecycleSteps {
  private readonly validating: ValidateStep;
  private readonly asking: RequestApprovalStep;
  private readonly assigning: AssignmentSteps;
  private readonly windows: WindowSteps;
  private readonly finishing: FinishStep;

  constructor(deps: StepDependencies) {
    this.validating = new ValidateStep(deps);
    this.asking = new RequestApprovalStep(deps);
    this.assigning = new AssignmentSteps(deps);
    this.windows = new WindowSteps(deps);
    this.finishing = new FinishStep(deps);
  }

  validate(input: unknown) {
    return this.validating.validate(input);
  }

  requestApproval(input: unknown) {
    return this.asking.requestApproval(input);
  }

  grant(input: unknown) {
    return this.assigning.grant(input);
  }

  checkGrant(input: unknown) {
    return this.assigning.checkGrant(input);
  }

  openWindow(input: unknown) {
    return this.windows.openWindow(input);
  }

  planExtension(input: unknown) {
    return this.windows.planExtension(input);
  }

  revoke(input: unknown) {
    return this.assigning.revoke(input);
  }

  checkRevoke(input: unknown) {
    return this.assigning.checkRevoke(input);
  }

  finish(input: unknown) {
    return this.finishing.finish(input);
  }
}

export { errorMessage } from './errors';
export type { AccessRequest } from './model';
export type {
  AssignmentStepInput,
  CheckStepInput,
  GrantResult,
  RevokeResult,
  RevokeStepInput,
} from './steps/assignment';
export type { StepDependencies, WindowPlan } from './steps/base';
export { describeStepError, type FinishInput } from './steps/finish';
export type { ValidationResult } from './steps/validate';
export type { PlanExtensionInput } from './steps/window';
