// The slack Lambda bundle's `@slack/bolt` (see infra/bundling.ts): the package's own modules for
// the values functions/ imports from it (test/infra/bundling-stubs.test.ts keeps the two in step),
// without its index, which also loads ExpressReceiver, the Assistant and the OAuth stores.
// Relative paths, which an alias does not rewrite: these are the package's files themselves.
const app = require('../../node_modules/@slack/bolt/dist/App');

module.exports = {
  App: app.default,
  LogLevel: app.LogLevel,
  AwsLambdaReceiver: require('../../node_modules/@slack/bolt/dist/receivers/AwsLambdaReceiver').default,
  HTTPReceiver: require('../../node_modules/@slack/bolt/dist/receivers/HTTPReceiver').default,
  verifySlackRequest: require('../../node_modules/@slack/bolt/dist/receivers/verify-request')
    .verifySlackRequest,
};
