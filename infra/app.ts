import { App } from 'aws-cdk-lib';
import { DeployConfigError } from './config';
import { buildJitAccessApp } from './jit-access-app';

// CDK entry point (cdk.json "app"). Configuration errors end synth with their message only.
try {
  const app = new App();
  buildJitAccessApp(app);
  app.synth();
} catch (error) {
  if (!(error instanceof DeployConfigError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
}
