/** MQTT topic rules the local core applies where IoT Core and the nucleus's MQTT client would. */

/**
 * Standard MQTT 3.1.1 filter matching (used to deliver messages, unlike policy matching): `+` is one
 * level, a final `#` is the parent level and everything below, and a filter starting with a
 * wildcard does not match topics starting with `$`.
 */
export function topicMatchesFilter(filter: string, topic: string): boolean {
  if (topic.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) return false;
  const filterLevels = filter.split('/');
  const topicLevels = topic.split('/');
  for (let i = 0; i < filterLevels.length; i++) {
    const level = filterLevels[i]!;
    if (level === '#') return i === filterLevels.length - 1;
    if (i >= topicLevels.length) return false;
    if (level !== '+' && level !== topicLevels[i]) return false;
  }
  return filterLevels.length === topicLevels.length;
}

export type TopicOperation = 'publish' | 'subscribe';

const MAX_FORWARD_SLASHES = 7;
const MAX_TOPIC_LENGTH = 256;
const DIRECT_INGEST = /^\$aws\/rules\/\S+\/\S+/;
const DIRECT_INGEST_PREFIX = /^\$aws\/rules\/\S+?\//;

function effectiveTopicProblem(topic: string, operation: TopicOperation): string | undefined {
  if ([...topic].filter((c) => c === '/').length > MAX_FORWARD_SLASHES) {
    return `The request topic must have no more than ${MAX_FORWARD_SLASHES} forward slashes (/)`;
  }
  if (topic.length > MAX_TOPIC_LENGTH) {
    const message =
      `The topic size of request must be no larger than ${MAX_TOPIC_LENGTH} bytes of UTF-8 encoded characters. ` +
      'This excludes the first 3 mandatory segments for Basic Ingest topics ($AWS/rules/rule-name/)';
    return operation === 'subscribe'
      ? `${message} or first 2 mandatory segments for MQTT Shared Subscriptions ($share/share-name/)`
      : message;
  }
  return undefined;
}

/**
 * The nucleus's IotCoreTopicValidator for an MQTT 3 connection (the stricter mode: reserved topics
 * other than Basic Ingest are checked like ordinary ones). Returns the problem text, or undefined.
 */
export function iotCoreTopicProblem(topic: string, operation: TopicOperation): string | undefined {
  if (topic.length === 0) return 'Topic must not be empty';
  if (operation === 'publish' && (topic.includes('#') || topic.includes('+'))) {
    return "Publish topics must not contain wildcard characters of '#' or '+'";
  }
  const normalized = topic.toLowerCase().trim();
  if (DIRECT_INGEST.test(normalized)) {
    const effective = normalized.replace(DIRECT_INGEST_PREFIX, '');
    return effectiveTopicProblem(effective, operation);
  }
  return effectiveTopicProblem(normalized, operation);
}
