import { InvokeCommand, type InvokeCommandOutput, type LambdaClient } from '@aws-sdk/client-lambda';
import type { LambdaKafkaEvent } from './lambda-event.ts';

/** The deployed function failed the batch (its error), or Lambda refused the call. */
export class LambdaInvokeError extends Error {
  override readonly name = 'LambdaInvokeError';
}

export interface LambdaInvokerOptions {
  /** A client pointed at Lambda's API: LocalStack's (http://localhost:4566) or AWS. */
  readonly client: LambdaClient;
  /** Name or ARN of the deployed detector function (stack output FunctionName). */
  readonly functionName: string;
}

/**
 * The poller's `invoke` for a function deployed behind Lambda's API: a synchronous
 * (RequestResponse) Invoke with the Kafka event as the payload, as the event source mapping
 * invokes it. "Lambda internally polls for new messages from the event source and then
 * synchronously invokes the target Lambda function" (Lambda developer guide, "Using Lambda
 * with self-managed Apache Kafka", https://docs.aws.amazon.com/lambda/latest/dg/with-kafka.html).
 * A function error comes back as a 200 with the X-Amz-Function-Error header; it is thrown
 * here, so the dispatcher retries the batch and commits nothing, like the mapping.
 */
export function createLambdaInvoker(
  options: LambdaInvokerOptions,
): (event: LambdaKafkaEvent) => Promise<unknown> {
  return async (event) => {
    let response: InvokeCommandOutput;
    try {
      response = await options.client.send(
        new InvokeCommand({
          FunctionName: options.functionName,
          InvocationType: 'RequestResponse',
          Payload: new TextEncoder().encode(JSON.stringify(event)),
        }),
      );
    } catch (error) {
      throw new LambdaInvokeError(
        `invoking ${options.functionName} failed: ${(error as Error).message}`,
        { cause: error },
      );
    }
    const text = response.Payload === undefined ? '' : new TextDecoder().decode(response.Payload);
    const payload: unknown = text === '' ? null : parseJson(text);
    if (response.FunctionError !== undefined) {
      const detail = payload as { errorType?: string; errorMessage?: string } | null;
      throw new LambdaInvokeError(
        `${options.functionName} failed the batch (${response.FunctionError}): ${detail?.errorType ?? 'Error'}: ${detail?.errorMessage ?? text}`,
      );
    }
    return payload;
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
