// Stands in for `express` in the slack Lambda bundle (see infra/bundling.ts): Bolt's
// ExpressReceiver is never constructed behind AwsLambdaReceiver. Fails loudly if it ever is.
function notBundled() {
  throw new Error('express is not bundled in this Lambda (infra/bundling.ts): use AwsLambdaReceiver');
}
module.exports = notBundled;
module.exports.default = notBundled;
module.exports.Router = notBundled;
