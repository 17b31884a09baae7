/**
 * Component configuration trees as the nucleus keeps them: keys are case-insensitive (the first
 * spelling is kept), objects are interior nodes, everything else (arrays included) is a leaf.
 */
export type ConfigObject = Record<string, unknown>;

export function isConfigObject(value: unknown): value is ConfigObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function findKey(node: ConfigObject, key: string): string | undefined {
  if (Object.hasOwn(node, key)) return key;
  const lower = key.toLowerCase();
  return Object.keys(node).find((k) => k.toLowerCase() === lower);
}

export type Lookup = { found: false } | { found: true; path: string[]; value: unknown };

/** Resolves a key path case-insensitively; `path` comes back in the stored spelling. */
export function lookup(config: ConfigObject, keyPath: readonly string[]): Lookup {
  let node: unknown = config;
  const path: string[] = [];
  for (const key of keyPath) {
    if (!isConfigObject(node)) return { found: false };
    const actual = findKey(node, key);
    if (actual === undefined) return { found: false };
    path.push(actual);
    node = node[actual];
  }
  return { found: true, path, value: node };
}

/** The GetConfiguration quirk: a leaf comes back wrapped as `{<leafName>: value}`, an object as itself. */
export function configurationValue(config: ConfigObject, keyPath: readonly string[]): unknown {
  const result = lookup(config, keyPath);
  if (!result.found) return undefined;
  const name = result.path[result.path.length - 1];
  if (name === undefined || isConfigObject(result.value)) return result.value;
  return { [name]: result.value };
}

export function mergeConfiguration(target: ConfigObject, source: ConfigObject): ConfigObject {
  const merged: ConfigObject = { ...target };
  for (const [key, value] of Object.entries(source)) {
    const actual = findKey(merged, key) ?? key;
    const existing = merged[actual];
    merged[actual] = isConfigObject(existing) && isConfigObject(value) ? mergeConfiguration(existing, value) : structuredClone(value);
  }
  return merged;
}

export class JsonPointerError extends Error {}

/** RFC 6901 pointer to its reference tokens; "" is the whole document. */
export function parseJsonPointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new JsonPointerError(`JSON pointer must be empty or start with "/": "${pointer}"`);
  return pointer
    .slice(1)
    .split('/')
    .map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'));
}

const ARRAY_INDEX = /^(?:0|[1-9][0-9]{0,9})$/;

/**
 * A `{configuration:/pointer}` recipe variable's value. The nucleus merges configuration case-insensitively but resolves
 * these pointers on the merged tree with Jackson's JsonNode.at (KernelConfigResolver): keys must match the stored
 * spelling exactly, and array elements are reached by index.
 */
export function valueAtPointer(config: ConfigObject, pointer: string): { found: false } | { found: true; value: unknown } {
  let tokens: string[];
  try {
    tokens = parseJsonPointer(pointer);
  } catch {
    return { found: false };
  }
  let node: unknown = config;
  for (const token of tokens) {
    if (Array.isArray(node) && ARRAY_INDEX.test(token) && Number(token) < node.length) node = node[Number(token)];
    else if (isConfigObject(node) && Object.hasOwn(node, token)) node = node[token];
    else return { found: false };
  }
  return { found: true, value: node };
}

function withoutPath(config: ConfigObject, path: readonly string[]): ConfigObject {
  const [head, ...rest] = path;
  if (head === undefined) return {};
  const actual = findKey(config, head);
  if (actual === undefined) return config;
  const copy = { ...config };
  const child = copy[actual];
  if (rest.length === 0) delete copy[actual];
  else if (isConfigObject(child)) copy[actual] = withoutPath(child, rest);
  return copy;
}

function withValueAt(config: ConfigObject, path: readonly string[], value: unknown): ConfigObject {
  const [head, ...rest] = path;
  if (head === undefined) return isConfigObject(value) ? structuredClone(value) : config;
  const actual = findKey(config, head) ?? head;
  const child = config[actual];
  const next = rest.length === 0 ? structuredClone(value) : withValueAt(isConfigObject(child) ? child : {}, rest, value);
  return { ...config, [actual]: next };
}

/** A deployment's reset: the value at the pointer goes back to its default, or disappears when it has none. */
export function resetConfiguration(config: ConfigObject, defaults: ConfigObject, pointer: string): ConfigObject {
  const path = parseJsonPointer(pointer);
  const fallback = lookup(defaults, path);
  return fallback.found ? withValueAt(config, path, fallback.value) : withoutPath(config, path);
}

function leafPaths(value: unknown, prefix: string[]): string[][] {
  if (!isConfigObject(value)) return [prefix];
  return Object.entries(value).flatMap(([key, child]) => leafPaths(child, [...prefix, key]));
}

/**
 * The nodes a subscriber hears about when `before` becomes `after`: every changed or added leaf
 * and every removed node (adding an empty interior node is silent, like interiorAdded).
 */
export function changedPaths(before: ConfigObject, after: ConfigObject, prefix: string[] = []): string[][] {
  const changes: string[][] = [];
  for (const [key, oldValue] of Object.entries(before)) {
    const newKey = findKey(after, key);
    if (newKey === undefined) {
      changes.push([...prefix, key]);
      continue;
    }
    const newValue = after[newKey];
    if (isConfigObject(oldValue) && isConfigObject(newValue)) changes.push(...changedPaths(oldValue, newValue, [...prefix, key]));
    else if (isConfigObject(newValue)) changes.push(...leafPaths(newValue, [...prefix, key]));
    else if (JSON.stringify(oldValue) !== JSON.stringify(newValue)) changes.push([...prefix, key]);
  }
  for (const [key, newValue] of Object.entries(after)) {
    if (findKey(before, key) === undefined) changes.push(...leafPaths(newValue, [...prefix, key]));
  }
  return changes;
}

/** Whether a subscriber at `subscribedPath` is told about a change at `changedPath` (case-insensitive prefix). */
export function isWithin(changedPath: readonly string[], subscribedPath: readonly string[]): boolean {
  return subscribedPath.every((key, i) => changedPath[i] !== undefined && changedPath[i]!.toLowerCase() === key.toLowerCase());
}
