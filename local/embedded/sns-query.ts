/**
 * The parts of SNS's AWS Query protocol the local endpoint speaks: form fields in, XML out.
 * Shapes follow https://docs.aws.amazon.com/sns/latest/api/API_Publish.html and
 * https://docs.aws.amazon.com/sns/latest/api/API_PublishBatch.html.
 */

export const SNS_XMLNS = 'http://sns.amazonaws.com/doc/2010-03-31/';

export interface MessageAttribute {
  dataType: string;
  stringValue?: string;
  binaryValue?: string;
}

/** A request error as SNS reports it: `Code` picks the SDK's exception class. */
export class SnsQueryError extends Error {
  override readonly name = 'SnsQueryError';
  constructor(
    readonly code: string,
    message: string,
    readonly httpStatus = 400,
    readonly type: 'Sender' | 'Receiver' = httpStatus >= 500 ? 'Receiver' : 'Sender',
  ) {
    super(message);
  }
}

/**
 * Reads a Query-protocol map, serialized by the SDK as
 * `<prefix>.entry.N.Name`, `<prefix>.entry.N.Value.DataType`, `...Value.StringValue`.
 */
export function readMessageAttributes(
  form: URLSearchParams,
  prefix: string,
): Record<string, MessageAttribute> {
  const attributes: Record<string, MessageAttribute> = {};
  for (let n = 1; ; n += 1) {
    const base = `${prefix}.entry.${n}`;
    const name = form.get(`${base}.Name`);
    if (name === null) break;
    const dataType = form.get(`${base}.Value.DataType`);
    if (dataType === null || dataType === '') {
      throw new SnsQueryError(
        'ParameterValueInvalid',
        `The message attribute '${name}' must contain non-empty message attribute type.`,
      );
    }
    const stringValue = form.get(`${base}.Value.StringValue`);
    const binaryValue = form.get(`${base}.Value.BinaryValue`);
    if (dataType.startsWith('Binary') ? binaryValue === null : stringValue === null) {
      throw new SnsQueryError(
        'ParameterValueInvalid',
        `The message attribute '${name}' must contain non-empty message attribute value.`,
      );
    }
    attributes[name] = {
      dataType,
      ...(stringValue === null ? {} : { stringValue }),
      ...(binaryValue === null ? {} : { binaryValue }),
    };
  }
  return attributes;
}

/** Indices N of `<prefix>.member.N.<field>` present in the form, in order. */
export function memberIndices(form: URLSearchParams, prefix: string): number[] {
  const pattern = new RegExp(`^${prefix.replace(/\./g, '\\.')}\\.member\\.(\\d+)\\.`);
  const indices = new Set<number>();
  for (const key of form.keys()) {
    const match = pattern.exec(key);
    if (match?.[1] !== undefined) indices.add(Number(match[1]));
  }
  return [...indices].sort((a, b) => a - b);
}

/** SNS rejects a JSON-structured message that is not a JSON object with a "default" string. */
export function validateJsonStructure(message: string): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch {
    throw new SnsQueryError(
      'InvalidParameter',
      'Invalid parameter: Message Structure - JSON message body failed to parse',
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new SnsQueryError(
      'InvalidParameter',
      'Invalid parameter: Message Structure - JSON message body failed to parse',
    );
  }
  if (!('default' in parsed)) {
    throw new SnsQueryError(
      'InvalidParameter',
      'Invalid parameter: Message Structure - No default entry in JSON message body',
    );
  }
}

const TOPIC_ARN = /^arn:aws(?:-[a-z]+)*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(?:\.fifo)?$/;

export function requireTopicArn(form: URLSearchParams): string {
  const arn = form.get('TopicArn') ?? form.get('TargetArn');
  if (arn === null || arn === '') {
    throw new SnsQueryError(
      'InvalidParameter',
      'Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter',
    );
  }
  if (!TOPIC_ARN.test(arn)) {
    throw new SnsQueryError(
      'InvalidParameter',
      `Invalid parameter: TopicArn Reason: ${arn} is not a valid topic ARN`,
    );
  }
  return arn;
}

export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** `<Action>Response><Action>Result>…</…Result><ResponseMetadata>…` as SNS answers. */
export function resultXml(action: string, resultBody: string, requestId: string): string {
  return (
    `<${action}Response xmlns="${SNS_XMLNS}">` +
    `<${action}Result>${resultBody}</${action}Result>` +
    `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata>` +
    `</${action}Response>`
  );
}

/** The SDK's awsQuery deserializer reads `ErrorResponse > Error > Code` to pick the exception. */
export function errorXml(error: SnsQueryError, requestId: string): string {
  return (
    `<ErrorResponse xmlns="${SNS_XMLNS}">` +
    `<Error><Type>${error.type}</Type><Code>${escapeXml(error.code)}</Code>` +
    `<Message>${escapeXml(error.message)}</Message></Error>` +
    `<RequestId>${requestId}</RequestId>` +
    `</ErrorResponse>`
  );
}

export function tag(name: string, value: string): string {
  return `<${name}>${escapeXml(value)}</${name}>`;
}
