// Stands in for `@smithy/core/event-streams` in every bundle (see infra/bundling.ts). Event streams
// only carry operations whose schema has an event-stream member: of the clients bundled here,
// Lambda's InvokeWithResponseStream and S3's SelectObjectContent, which the product never calls
// (test/infra/synth-and-nag.test.ts checks every command in the deployed bundles). The SDK
// reaches the module in two places only:
// - the Lambda and S3 client constructors, whose resolveEventStreamSerdeConfig builds the
//   marshaller from eventStreamSerdeProvider (@smithy/core event-streams/
//   eventstream-serde-config-resolver/EventStreamSerdeConfig.js): kept, with a marshaller that
//   fails if it is ever used;
// - HttpProtocol.loadEventStreamCapability (@smithy/core protocols/HttpProtocol.js), called
//   from serializeEventStream / deserializeEventStream only for such an operation.
function notBundled() {
  throw new Error(
    '@smithy/core/event-streams is not bundled in this Lambda (infra/bundling.ts): no event-stream operations',
  );
}
const marshaller = { serialize: notBundled, deserialize: notBundled };
exports.eventStreamSerdeProvider = () => marshaller;
exports.resolveEventStreamSerdeConfig = (input) =>
  Object.assign(input, { eventStreamMarshaller: input.eventStreamSerdeProvider(input) });
exports.EventStreamSerde = class EventStreamSerde {
  constructor() {
    notBundled();
  }
};
