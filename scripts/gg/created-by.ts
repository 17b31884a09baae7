/**
 * How the tool marks what it creates, so that `cleanup` removes only that: every SNS topic, IAM role, topic rule,
 * thing group, IoT policy and mitigation action the tool creates carries the tag CREATED_BY_TAG with the component's
 * name. A resource that already existed (made by hand, or by a version of the tool from before the tag) is reused
 * untagged and never deleted by cleanup, whatever its name.
 */
export const CREATED_BY_TAG = 'gg-created-by';

export interface Tag {
  Key?: string | undefined;
  Value?: string | undefined;
}

/** The tag list of IAM, SNS and AWS IoT requests (all three spell it Key/Value). */
export function createdByTags(componentName: string): { Key: string; Value: string }[] {
  return [{ Key: CREATED_BY_TAG, Value: componentName }];
}

/** CreateTopicRule takes its tags as one query string: key=value&... */
export function createdByRuleTags(componentName: string): string {
  return `${encodeURIComponent(CREATED_BY_TAG)}=${encodeURIComponent(componentName)}`;
}

export function isCreatedBy(tags: readonly Tag[] | undefined, componentName: string): boolean {
  return (tags ?? []).some((tag) => tag.Key === CREATED_BY_TAG && tag.Value === componentName);
}

export function createdByLabel(componentName: string): string {
  return `${CREATED_BY_TAG}=${componentName}`;
}
