// Stands in for `raw-body` in the slack Lambda bundle (see infra/bundling.ts): only Bolt's
// HTTPReceiver and ExpressReceiver read raw Node requests; AwsLambdaReceiver gets the body in the event.
function notBundled() {
  throw new Error('raw-body is not bundled in this Lambda (infra/bundling.ts): use AwsLambdaReceiver');
}
module.exports = notBundled;
module.exports.default = notBundled;
