// aws-local-stepfunctions 3 relies on Promise.withResolvers (Node >= 22); the engine host
// installs the same polyfill, this keeps tests independent of import order.
import '../../local/step-functions/polyfills';

// Handlers log structured JSON; tests keep their output readable unless asked otherwise.
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
