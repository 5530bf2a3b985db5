import { App } from 'aws-cdk-lib';
import { DeployConfigError } from './config';
import { buildJitAccessApp } from './jit-access-app';

// CDK entry point (cdk.json "app"). Configuration errors end synth with their message only.
// Async: `ou:`/`tag:` selectors may be resolved through Organizations before the stack is built.
buildJitAccessApp(new App())
  .then(({ stack }) => stack.node.root instanceof App && stack.node.root.synth())
  .catch((error: unknown) => {
    if (!(error instanceof DeployConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  });
