import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { PROJECT_ROOT } from './bundling';
import { type DeployConfig, loadDeployConfig } from './config';
import { JitAccessStack } from './jit-access-stack';

export interface JitAccessApp {
  config: DeployConfig;
  stack: JitAccessStack;
}

/**
 * Adds the product's stack to `app`, configured from the app's context (cdk.json or -c), with
 * cdk-nag's AWS Solutions checks as a validation plugin: an unacknowledged finding fails synth.
 * Context `nag=false` leaves the plugin out (tests that look at other things).
 */
export async function buildJitAccessApp(app: App): Promise<JitAccessApp> {
  const config = await loadDeployConfig((key) => app.node.tryGetContext(key), PROJECT_ROOT);
  const stack = new JitAccessStack(app, config.stackName, {
    stackName: config.stackName,
    description: 'Just-in-time AWS access through Slack (IAM Identity Center assignments)',
    env: { region: config.region, ...(config.account ? { account: config.account } : {}) },
    config,
  });
  const nag = app.node.tryGetContext('nag');
  if (nag !== false && nag !== 'false')
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { config, stack };
}
