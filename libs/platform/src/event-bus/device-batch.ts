/**
 * Several device messages of one partition in one RabbitMQ message: a quorum
 * queue's cost is per message (publish, confirm, delivery, acknowledgement,
 * each in its Raft log), so the broker puts the messages of a partition that
 * arrive in one event-loop turn together. The body is, per device message:
 * the topic's length (2 bytes), the payload's (4 bytes), both big-endian,
 * then the topic (UTF-8) and the payload. The header BATCH_HEADER carries
 * how many; a message without it is one device message (topic in TOPIC_HEADER).
 */
export const BATCH_HEADER = 'x-device-messages';

export interface BatchedMessage {
  topic: string;
  payload: Buffer;
}

export function encodeBatch(messages: readonly BatchedMessage[]): Buffer {
  const parts: Buffer[] = [];
  for (const { topic, payload } of messages) {
    const topicBytes = Buffer.from(topic, 'utf8');
    const head = Buffer.allocUnsafe(6);
    head.writeUInt16BE(topicBytes.length, 0);
    head.writeUInt32BE(payload.length, 2);
    parts.push(head, topicBytes, payload);
  }
  return Buffer.concat(parts);
}

/** The messages of a batch body, or null when the body does not hold `count` whole ones and nothing more. */
export function decodeBatch(body: Buffer, count: number): BatchedMessage[] | null {
  const messages: BatchedMessage[] = [];
  let offset = 0;
  for (let index = 0; index < count; index += 1) {
    if (offset + 6 > body.length) return null;
    const topicLength = body.readUInt16BE(offset);
    const payloadLength = body.readUInt32BE(offset + 2);
    const topicEnd = offset + 6 + topicLength;
    const end = topicEnd + payloadLength;
    if (end > body.length) return null;
    messages.push({ topic: body.toString('utf8', offset + 6, topicEnd), payload: body.subarray(topicEnd, end) });
    offset = end;
  }
  return offset === body.length ? messages : null;
}
