// Which service the sandbox talks to: each stand-in is replaced by the real service, one by one,
// when the environment holds real credentials for it. Step Functions always stays local: the
// worker handlers run in this process, so a real state machine could not invoke them.

export const SANDBOX_BOT_TOKEN = 'xoxb-sandbox-bot-token';
export const SANDBOX_SIGNING_SECRET = 'sandbox-signing-secret';

export type ServiceMode = 'stand-in' | 'real';

export interface ServicePlan {
  slack: {
    mode: ServiceMode;
    botToken: string;
    signingSecret: string;
    signingSecretSource: 'env' | 'default';
  };
  /** Identity Center; Organizations follows it (one stand-in serves both, seeded from one file). */
  identityCenter: { mode: ServiceMode; profile?: string };
  dynamo: { mode: ServiceMode; stateTable: string; auditTable: string };
  /** The environment holds AWS credentials of its own (used only when a real AWS service is). */
  awsCredentials: boolean;
}

export interface PlanInput {
  env: NodeJS.ProcessEnv;
  /** The policy's Identity Center instance vs the sandbox file's: a policy of its own means a real one. */
  policyInstanceArn: string;
  sandboxInstanceArn: string;
  /** Ignore credentials: every stand-in (tests, `--stand-ins`). */
  forceStandIns?: boolean;
}

const DEFAULT_TABLES = { stateTable: 'jit-access-sandbox-state', auditTable: 'jit-access-sandbox-audit' };

export function hasAwsCredentials(env: NodeJS.ProcessEnv): boolean {
  return Boolean(
    env.AWS_PROFILE ||
      (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) ||
      env.AWS_WEB_IDENTITY_TOKEN_FILE ||
      env.AWS_CONTAINER_CREDENTIALS_FULL_URI ||
      env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI,
  );
}

export function planServices(input: PlanInput): ServicePlan {
  const { env } = input;
  const force = input.forceStandIns === true;
  const envSecret = env.SLACK_SIGNING_SECRET || undefined;
  const envToken = env.SLACK_BOT_TOKEN || undefined;
  const realSlack =
    !force &&
    envToken !== undefined &&
    envSecret !== undefined &&
    envToken !== SANDBOX_BOT_TOKEN &&
    envSecret !== SANDBOX_SIGNING_SECRET;
  const awsCredentials = hasAwsCredentials(env);
  const realAws = !force && awsCredentials;
  const realIdentityCenter = realAws && input.policyInstanceArn !== input.sandboxInstanceArn;
  const realDynamo = realAws && Boolean(env.STATE_TABLE && env.AUDIT_TABLE);
  return {
    slack: {
      mode: realSlack ? 'real' : 'stand-in',
      // The stand-in accepts the sandbox token; a real workspace needs the real one.
      botToken: realSlack && envToken ? envToken : SANDBOX_BOT_TOKEN,
      signingSecret: envSecret ?? SANDBOX_SIGNING_SECRET,
      signingSecretSource: envSecret ? 'env' : 'default',
    },
    identityCenter: {
      mode: realIdentityCenter ? 'real' : 'stand-in',
      ...(realIdentityCenter && env.AWS_PROFILE ? { profile: env.AWS_PROFILE } : {}),
    },
    dynamo:
      realDynamo && env.STATE_TABLE && env.AUDIT_TABLE
        ? { mode: 'real', stateTable: env.STATE_TABLE, auditTable: env.AUDIT_TABLE }
        : { mode: 'stand-in', ...DEFAULT_TABLES },
    awsCredentials,
  };
}

export function describeAwsIdentity(plan: ServicePlan, env: NodeJS.ProcessEnv): string {
  if (plan.identityCenter.profile) return `profile ${plan.identityCenter.profile}`;
  return env.AWS_ACCESS_KEY_ID ? 'credentials from the environment' : 'default credential chain';
}
