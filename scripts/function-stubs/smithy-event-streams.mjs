// Stands in for @smithy/core/event-streams (≈ 15 KiB minified) in the function bundles
// (scripts/function-plugins.mjs). The S3 client wires an event-stream marshaller into every
// client it builds, for the one S3 operation that streams events, SelectObjectContent; no
// sseguard function sends it (nor any other event-stream operation: DynamoDB, KMS, SQS, STS and
// Athena have none). The clients get a marshaller that refuses, saying why, if one ever did.
const LEFT_OUT = 'event streams (S3 SelectObjectContent) are left out of the function bundles (scripts/function-plugins.mjs)';

const refusingMarshaller = {
  deserialize() {
    throw new Error(LEFT_OUT);
  },
  serialize() {
    throw new Error(LEFT_OUT);
  },
};

export const eventStreamSerdeProvider = () => refusingMarshaller;

export const resolveEventStreamSerdeConfig = (input) => Object.assign(input, { eventStreamMarshaller: input.eventStreamSerdeProvider(input) });

/** What the protocol layer loads on demand for an operation with an event stream. */
export class EventStreamSerde {
  constructor() {
    throw new Error(LEFT_OUT);
  }
}
