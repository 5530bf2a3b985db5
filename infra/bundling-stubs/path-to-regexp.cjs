// Stands in for `path-to-regexp` in the slack Lambda bundle (see infra/bundling.ts): only Bolt's
// HTTPReceiver and SocketModeReceiver match custom routes with it, when they serve a request
// (@slack/bolt dist/receivers/HTTPReceiver.js, SocketModeReceiver.js); AwsLambdaReceiver has no routes.
function notBundled() {
  throw new Error('path-to-regexp is not bundled in this Lambda (infra/bundling.ts): use AwsLambdaReceiver');
}
module.exports = { match: notBundled, pathToRegexp: notBundled, compile: notBundled, parse: notBundled };
