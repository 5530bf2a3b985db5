// Stands in for `@slack/socket-mode` in the slack Lambda bundle (see infra/bundling.ts): a
// Lambda behind AwsLambdaReceiver never opens a Socket Mode connection.
class SocketModeClient {
  constructor() {
    throw new Error(
      '@slack/socket-mode is not bundled in this Lambda (infra/bundling.ts): use AwsLambdaReceiver',
    );
  }
}
module.exports = { SocketModeClient };
