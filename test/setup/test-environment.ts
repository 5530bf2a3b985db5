// aws-local-stepfunctions 3 relies on Promise.withResolvers (Node >= 22); the engine host
// installs the same polyfill, this keeps tests independent of import order.
import '../../local/step-functions/polyfills';
import fc from 'fast-check';

// Handlers log structured JSON; tests keep their output readable unless asked otherwise.
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';

// Property tests explore with a fixed seed so every run (and CI) checks the same cases; change
// the seed to explore further, and keep any counterexample found as an example test.
fc.configureGlobal({ seed: 20261125 });
