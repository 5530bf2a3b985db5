// Stand-in for `@slack/oauth` in the slack Lambda bundle. Only Bolt's HTTP, Express and Socket Mode receivers
// build an InstallProvider, and only when OAuth (clientId/clientSecret) is configured; the Lambda
// behind AwsLambdaReceiver never does. Dropping it also drops jsonwebtoken and semver.
function notBundled() {
  throw new Error(
    '@slack/oauth is not bundled in this Lambda (infra/bundling.ts): no OAuth behind AwsLambdaReceiver',
  );
}
class InstallProvider {
  constructor() {
    notBundled();
  }
}
class MemoryInstallationStore {
  constructor() {
    notBundled();
  }
}
class FileInstallationStore {
  constructor() {
    notBundled();
  }
}
module.exports = { InstallProvider, MemoryInstallationStore, FileInstallationStore };
