import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import * as z from 'zod/mini';
import { AWS_CALLS, awsClientConfig } from './clients';
import { ConfigError, ENV, optionalEnv } from './config';

// Slack credentials: from Secrets Manager on AWS (SLACK_SECRET_ARN, a JSON secret), from the
// environment locally. Never logged.

const secretSchema = z.object({
  botToken: z.string().check(z.minLength(1)),
  signingSecret: z.string().check(z.minLength(1)),
});
export type SlackCredentials = z.infer<typeof secretSchema>;

/** Read on each call: callers keep the result (once per container, a failure not kept). */
export async function loadSlackCredentials(): Promise<SlackCredentials> {
  return readCredentials();
}

async function readCredentials(): Promise<SlackCredentials> {
  const secretArn = optionalEnv(ENV.slackSecretArn);
  if (secretArn) {
    const client = new SecretsManagerClient(awsClientConfig(AWS_CALLS.secretsManager));
    const result = await client.send(new GetSecretValueCommand({ SecretId: secretArn }));
    const parsed = secretSchema.safeParse(JSON.parse(result.SecretString ?? '{}'));
    if (!parsed.success)
      throw new ConfigError(
        `Secret ${secretArn} must be JSON with botToken and signingSecret (values are not shown)`,
      );
    return parsed.data;
  }
  const botToken = optionalEnv(ENV.slackBotToken);
  const signingSecret = optionalEnv(ENV.slackSigningSecret);
  if (!botToken || !signingSecret)
    throw new ConfigError(
      `Set ${ENV.slackSecretArn}, or both ${ENV.slackBotToken} and ${ENV.slackSigningSecret}`,
    );
  return { botToken, signingSecret };
}
