import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenOn } from './listen.ts';
import {
  errorXml,
  type MessageAttribute,
  memberIndices,
  readMessageAttributes,
  requireTopicArn,
  resultXml,
  SnsQueryError,
  tag,
  validateJsonStructure,
} from './sns-query.ts';

export interface PublishedMessage {
  messageId: string;
  topicArn: string;
  message: string;
  subject?: string;
  messageStructure?: string;
  messageAttributes: Record<string, MessageAttribute>;
  /** The entry's Id when the message came through PublishBatch. */
  batchEntryId?: string;
}

export interface SnsRequestRecord {
  action: string;
  /** HTTP status answered. */
  status: number;
  errorCode?: string;
}

export interface SnsSubscription {
  subscriptionArn: string;
  topicArn: string;
  protocol: string;
  endpoint: string;
}

export interface SnsEndpoint {
  /** `http://127.0.0.1:PORT`, for the SDK's `endpoint` option. */
  endpoint: string;
  /** Every message accepted, in order. */
  messages: PublishedMessage[];
  /** Every request received, failed ones included. */
  requests: SnsRequestRecord[];
  topics: Set<string>;
  subscriptions: SnsSubscription[];
  /** Makes the next `count` requests fail: throttle → 400 Throttling, internal → 500 InternalError. */
  failNext(count: number, kind?: 'throttle' | 'internal'): void;
  /** Called for each accepted message; returns an unsubscribe function. */
  onMessage(listener: (m: PublishedMessage) => void): () => void;
  close(): Promise<void>;
}

const ACCOUNT = '000000000000';
const REGION = 'us-east-1';
const PUBLISH_BATCH_MAX = 10;
const BATCH_ENTRY_ID = /^[A-Za-z0-9_-]{1,80}$/;
/** A generous cap: SNS's own limit is 256 KiB per message (and per batch). */
const MAX_BODY_BYTES = 1024 * 1024;
const MAX_MESSAGE_BYTES = 256 * 1024;

/**
 * A loopback SNS that speaks the Query protocol as @aws-sdk/client-sns sends it (Publish,
 * PublishBatch, CreateTopic, Subscribe, ListTopics) and records what it accepted, so the
 * real SNS adapter can be exercised without an AWS account.
 */
export async function startSnsEndpoint(
  options: { port?: number; host?: string } = {},
): Promise<SnsEndpoint> {
  const messages: PublishedMessage[] = [];
  const requests: SnsRequestRecord[] = [];
  const topics = new Set<string>();
  const subscriptions: SnsSubscription[] = [];
  const listeners = new Set<(m: PublishedMessage) => void>();
  const failures: ('throttle' | 'internal')[] = [];

  const accept = (m: PublishedMessage) => {
    messages.push(m);
    for (const listener of listeners) {
      try {
        listener(m);
      } catch {
        // A listener's bug must not turn into an SNS error for the publisher.
      }
    }
  };

  const actions: Record<string, (form: URLSearchParams) => string> = {
    Publish(form) {
      const topicArn = requireTopicArn(form);
      const message = requireMessage(form.get('Message'));
      const structure = form.get('MessageStructure') ?? undefined;
      if (structure === 'json') validateJsonStructure(message);
      const subject = form.get('Subject') ?? undefined;
      if (subject !== undefined) validateSubject(subject);
      const messageAttributes = readMessageAttributes(form, 'MessageAttributes');
      const messageId = randomUUID();
      accept({
        messageId,
        topicArn,
        message,
        messageAttributes,
        ...(subject === undefined ? {} : { subject }),
        ...(structure === undefined ? {} : { messageStructure: structure }),
      });
      return tag('MessageId', messageId);
    },
    PublishBatch(form) {
      const topicArn = requireTopicArn(form);
      const prefix = 'PublishBatchRequestEntries';
      const indices = memberIndices(form, prefix);
      if (indices.length === 0) {
        throw new SnsQueryError(
          'EmptyBatchRequest',
          'The batch request does not contain any entries.',
        );
      }
      if (indices.length > PUBLISH_BATCH_MAX) {
        throw new SnsQueryError(
          'TooManyEntriesInBatchRequest',
          `The batch request contains more entries than permissible (${indices.length} > ${PUBLISH_BATCH_MAX}).`,
        );
      }
      const ids = indices.map((n) => form.get(`${prefix}.member.${n}.Id`) ?? '');
      for (const id of ids) {
        if (!BATCH_ENTRY_ID.test(id)) {
          throw new SnsQueryError(
            'InvalidBatchEntryId',
            `The Id of a batch entry in a batch request doesn't abide by the specification: ${JSON.stringify(id)}`,
          );
        }
      }
      if (new Set(ids).size !== ids.length) {
        throw new SnsQueryError(
          'BatchEntryIdsNotDistinct',
          'Two or more batch entries in the request have the same Id.',
        );
      }
      // Entry-level problems go to Failed (SenderFault), as SNS reports them; the rest succeed.
      const successful: string[] = [];
      const failed: string[] = [];
      const accepted: PublishedMessage[] = [];
      indices.forEach((n, i) => {
        const entry = `${prefix}.member.${n}`;
        const id = ids[i] as string;
        try {
          const message = requireMessage(form.get(`${entry}.Message`));
          const structure = form.get(`${entry}.MessageStructure`) ?? undefined;
          if (structure === 'json') validateJsonStructure(message);
          const subject = form.get(`${entry}.Subject`) ?? undefined;
          if (subject !== undefined) validateSubject(subject);
          const messageAttributes = readMessageAttributes(form, `${entry}.MessageAttributes`);
          const messageId = randomUUID();
          accepted.push({
            messageId,
            topicArn,
            message,
            messageAttributes,
            batchEntryId: id,
            ...(subject === undefined ? {} : { subject }),
            ...(structure === undefined ? {} : { messageStructure: structure }),
          });
          successful.push(`<member>${tag('Id', id)}${tag('MessageId', messageId)}</member>`);
        } catch (error) {
          if (!(error instanceof SnsQueryError)) throw error;
          failed.push(
            `<member>${tag('Id', id)}${tag('Code', error.code)}${tag('Message', error.message)}` +
              `${tag('SenderFault', 'true')}</member>`,
          );
        }
      });
      for (const m of accepted) accept(m);
      return `<Successful>${successful.join('')}</Successful><Failed>${failed.join('')}</Failed>`;
    },
    CreateTopic(form) {
      const name = form.get('Name') ?? '';
      if (!/^[A-Za-z0-9_-]{1,256}(?:\.fifo)?$/.test(name)) {
        throw new SnsQueryError('InvalidParameter', 'Invalid parameter: Topic Name');
      }
      const arn = `arn:aws:sns:${REGION}:${ACCOUNT}:${name}`;
      topics.add(arn);
      return tag('TopicArn', arn);
    },
    Subscribe(form) {
      const topicArn = requireTopicArn(form);
      const protocol = form.get('Protocol') ?? '';
      if (protocol === '')
        throw new SnsQueryError('InvalidParameter', 'Invalid parameter: Protocol');
      const subscriptionArn = `${topicArn}:${randomUUID()}`;
      subscriptions.push({
        subscriptionArn,
        topicArn,
        protocol,
        endpoint: form.get('Endpoint') ?? '',
      });
      // Email and HTTP subscriptions wait for a confirmation that never comes here.
      const pending = ['email', 'email-json', 'http', 'https'].includes(protocol);
      const returnArn = form.get('ReturnSubscriptionArn') === 'true';
      return tag(
        'SubscriptionArn',
        pending && !returnArn ? 'pending confirmation' : subscriptionArn,
      );
    },
    ListTopics() {
      const members = [...topics].map((arn) => `<member>${tag('TopicArn', arn)}</member>`).join('');
      return `<Topics>${members}</Topics>`;
    },
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const requestId = randomUUID();
    const reply = (status: number, body: string, action: string, errorCode?: string) => {
      requests.push({ action, status, ...(errorCode === undefined ? {} : { errorCode }) });
      res.writeHead(status, {
        'content-type': 'text/xml',
        'x-amzn-requestid': requestId,
        'content-length': Buffer.byteLength(body),
      });
      res.end(body);
    };
    let action = '';
    try {
      const body = await readBody(req);
      const form = new URLSearchParams(body);
      action = form.get('Action') ?? '';
      const failure = failures.shift();
      if (failure === 'throttle') throw new SnsQueryError('Throttling', 'Rate exceeded', 400);
      if (failure === 'internal') {
        throw new SnsQueryError('InternalError', 'An internal service error has occurred', 500);
      }
      if (req.method !== 'POST') throw new SnsQueryError('InvalidAction', 'Only POST is supported');
      const run = actions[action];
      if (run === undefined) {
        throw new SnsQueryError('InvalidAction', `Could not find operation ${action || '(none)'}`);
      }
      reply(200, resultXml(action, run(form), requestId), action);
    } catch (error) {
      const queryError =
        error instanceof SnsQueryError
          ? error
          : new SnsQueryError('InternalError', (error as Error).message, 500);
      reply(queryError.httpStatus, errorXml(queryError, requestId), action, queryError.code);
    }
  };

  const server = createServer((req, res) => {
    void handle(req, res);
  });
  // Node closes an idle keep-alive socket after 5 s; a client that reuses it at that moment
  // gets ECONNRESET. The clients here keep their sockets between batches that can be seconds
  // apart on a loaded machine, so the server keeps them longer than any such pause.
  server.keepAliveTimeout = 120_000;
  const host = options.host ?? '127.0.0.1';
  const port = await listenOn(server, options.port ?? 0, host);

  return {
    endpoint: `http://${host}:${port}`,
    messages,
    requests,
    topics,
    subscriptions,
    failNext(count, kind = 'throttle') {
      for (let i = 0; i < count; i += 1) failures.push(kind);
    },
    onMessage(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        listeners.clear();
        server.close((error) => (error ? reject(error) : resolve()));
        // Keep-alive sockets of SDK clients would otherwise hold close() open.
        server.closeAllConnections();
      }),
  };
}

function requireMessage(message: string | null): string {
  if (message === null || message === '') {
    throw new SnsQueryError(
      'InvalidParameter',
      'Invalid parameter: Message Reason: cannot be empty',
    );
  }
  if (Buffer.byteLength(message) > MAX_MESSAGE_BYTES) {
    throw new SnsQueryError('InvalidParameter', 'Invalid parameter: Message too long');
  }
  return message;
}

/** Subjects must be printable ASCII without line breaks, at most 100 characters. */
function validateSubject(subject: string): void {
  if (subject === '' || subject.length > 100 || !/^[\x20-\x7e]+$/.test(subject)) {
    throw new SnsQueryError('InvalidParameter', 'Invalid parameter: Subject');
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES)
      throw new SnsQueryError('RequestEntityTooLarge', 'Request too large', 413);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
