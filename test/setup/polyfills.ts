// aws-local-stepfunctions 3 relies on Promise.withResolvers (Node >= 22); the engine host
// installs the same polyfill, this keeps tests independent of import order.
import '../../local/step-functions/polyfills';
