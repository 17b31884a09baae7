/**
 * The nucleus's resource matcher for component policies (`aws.greengrass.ipc.mqttproxy` MQTT-style, every other
 * service, `aws.greengrass.ipc.pubsub` included, in its standard style), rebuilt node for node so that the local
 * core allows exactly what a real core allows. Rules in docs/nucleus-authorization.md; behaviour follows
 * aws-greengrass-nucleus `src/main/java/com/aws/greengrass/authorization/WildcardTrie.java` (add, matchesMQTT) and
 * `AuthorizationModule.java` (validateResource). A regex per resource cannot agree with it: resources share one tree
 * per component and operation and change each other's meaning, and where two branches leave the same remaining
 * text the nucleus keeps only the one its hash map visits last.
 */

const GLOB = '*';
const MULTI_LEVEL = '#';
const SINGLE_LEVEL = '+';
const SEPARATOR = '/';
const ESCAPABLE = new Set(['*', '$', '?']);

/** Java's Character.isSpaceChar: Unicode space, line and paragraph separators (not tab or newline). */
const ONLY_SPACE_SEPARATORS = /^[\p{Zs}\p{Zl}\p{Zp}]*$/u;

/** The nucleus's Utils.isEmpty: empty or only space separators, checked per UTF-16 unit like Java. */
export function isBlank(text: string): boolean {
  return ONLY_SPACE_SEPARATORS.test(text);
}

/** `${c}` at the start of `text`: returns c, or undefined when the four characters do not have that form. */
function escapedCharacter(text: string): string | undefined {
  if (text.length < 4 || text[0] !== '$' || text[1] !== '{' || text[3] !== '}') return undefined;
  return text[2];
}

/** Why the nucleus refuses to load `resource` (then it skips it), or undefined when it loads. */
export function resourceRefusal(resource: string): string | undefined {
  if (isBlank(resource)) return 'Resource cannot be empty';
  for (let i = 0; i < resource.length; i++) {
    const c = resource[i];
    if (c === '$' && resource[i + 1] === '{') {
      const escaped = escapedCharacter(resource.slice(i));
      if (escaped === undefined) return 'Resource contains an invalid escape sequence. You can use ${*}, ${$}, or ${?}';
      if (!ESCAPABLE.has(escaped))
        return `Resource contains an invalid escape sequence: \${${escaped}}. You can use \${*}, \${$}, or \${?}`;
      i += 3;
      continue;
    }
    if (c === '?') return "Resource contains invalid character: '?'. Use an escape sequence: ${?}";
  }
  return undefined;
}

/** Java String.hashCode, then ConcurrentHashMap.spread. */
function javaSpreadHash(key: string): number {
  let h = 0;
  for (let i = 0; i < key.length; i++) h = (Math.imul(h, 31) + key.charCodeAt(i)) | 0;
  return (h ^ (h >>> 16)) & 0x7fffffff;
}

const INITIAL_TABLE_SIZE = 16;

/** java.util.HashMap: a bin of this many nodes is turned into a tree, or the table doubled while it is small. */
const TREEIFY_THRESHOLD = 8;
const MIN_TREEIFY_CAPACITY = 64;

/**
 * The order a `new java.util.HashSet<String>()` filled with `items` iterates them (duplicates dropped): bins by
 * `hashCode ^ (hashCode >>> 16)`, each bin in insertion order, a doubling past 3/4 load (or at a ninth node in one bin
 * of a table under 64) that keeps each bin's order in both halves. Bins turned into trees (a ninth colliding string in
 * a table of 64 or more) are not modelled; a policy would need dozens of resources for that.
 */
export function javaHashSetOrder(items: readonly string[]): string[] {
  let table: string[][] = Array.from({ length: INITIAL_TABLE_SIZE }, () => []);
  let size = 0;
  const hashOf = (key: string): number => {
    let h = 0;
    for (let i = 0; i < key.length; i++) h = (Math.imul(h, 31) + key.charCodeAt(i)) | 0;
    return h ^ (h >>> 16);
  };
  const grow = (): void => {
    const next: string[][] = Array.from({ length: table.length * 2 }, () => []);
    for (const bin of table) for (const key of bin) next[hashOf(key) & (next.length - 1)]!.push(key);
    table = next;
  };
  for (const item of items) {
    const bin = table[hashOf(item) & (table.length - 1)]!;
    if (bin.includes(item)) continue;
    bin.push(item);
    if (bin.length > TREEIFY_THRESHOLD && table.length < MIN_TREEIFY_CAPACITY) grow();
    if (++size > table.length * 0.75) grow();
  }
  return table.flat();
}

/**
 * A map that iterates in the order java.util.concurrent.ConcurrentHashMap does for the same inserts: bins by spread
 * hash, new keys at the tail of their bin, a doubling at 3/4 load that keeps the bin's last run of same-side nodes and
 * prepends the rest. The nucleus's trie answers depend on this order (see the file comment).
 */
class JavaHashOrderedMap<V> {
  private table: string[][] = [];
  private threshold = 0;
  private readonly values = new Map<string, V>();

  get(key: string): V | undefined {
    return this.values.get(key);
  }

  /** Like DefaultConcurrentHashMap.get: the existing value, or a new one stored under the key. */
  getOrCreate(key: string, create: () => V): V {
    const existing = this.values.get(key);
    if (existing !== undefined) return existing;
    const value = create();
    this.insert(key);
    this.values.set(key, value);
    return value;
  }

  *entries(): Generator<[string, V]> {
    for (const bin of this.table) for (const key of bin ?? []) yield [key, this.values.get(key)!];
  }

  private insert(key: string): void {
    if (this.table.length === 0) {
      this.table = Array.from({ length: INITIAL_TABLE_SIZE }, () => []);
      this.threshold = INITIAL_TABLE_SIZE - (INITIAL_TABLE_SIZE >>> 2);
    }
    this.table[javaSpreadHash(key) & (this.table.length - 1)]!.push(key);
    if (this.values.size + 1 >= this.threshold) this.grow();
  }

  private grow(): void {
    const n = this.table.length;
    const next: string[][] = Array.from({ length: n * 2 }, () => []);
    for (let i = 0; i < n; i++) {
      const bin = this.table[i]!;
      if (bin.length === 0) continue;
      const high = (key: string): boolean => (javaSpreadHash(key) & n) !== 0;
      let lastRun = 0;
      for (let j = 1; j < bin.length; j++) if (high(bin[j]!) !== high(bin[j - 1]!)) lastRun = j;
      const low: string[] = [];
      const upper: string[] = [];
      (high(bin[lastRun]!) ? upper : low).push(...bin.slice(lastRun));
      for (let j = 0; j < lastRun; j++) (high(bin[j]!) ? upper : low).unshift(bin[j]!);
      next[i] = low;
      next[i + n] = upper;
    }
    this.table = next;
    this.threshold = n * 2 - ((n * 2) >>> 2);
  }
}

/** Insertion-ordered stand-in for the java.util.HashMap of candidate continuations: a later put replaces the value. */
type Candidates = Map<string, WildcardTrie>;

export class WildcardTrie {
  private isTerminal = false;
  private isTerminalLevel = false;
  private isWildcard = false;
  private isMqttWildcard = false;
  private matchAll = false;
  private readonly children = new JavaHashOrderedMap<WildcardTrie>();

  private child(key: string): WildcardTrie {
    return this.children.getOrCreate(key, () => new WildcardTrie());
  }

  /** Adds one resource; call resourceRefusal first, as the nucleus validates before it adds. */
  add(resource: string): void {
    if (resource === GLOB || resource === MULTI_LEVEL) {
      const node = this.child(resource);
      node.matchAll = true;
      node.isTerminal = true;
      if (resource === GLOB) node.isWildcard = true;
      else node.isMqttWildcard = true;
      return;
    }
    if (resource === SINGLE_LEVEL) {
      const node = this.child(SINGLE_LEVEL);
      node.isTerminal = true;
      node.isMqttWildcard = true;
      return;
    }
    if (resource.startsWith(SINGLE_LEVEL + SEPARATOR)) {
      const node = this.child(SINGLE_LEVEL);
      node.isMqttWildcard = true;
      node.addFrom(resource.slice(1), true);
    }
    this.addFrom(resource, true);
  }

  private addFrom(subject: string, terminal: boolean): WildcardTrie {
    if (subject.length === 0) {
      this.isTerminal ||= terminal;
      return this;
    }
    const last = subject.length - 1;
    let text = '';
    for (let i = 0; i < subject.length; i++) {
      const c = subject[i]!;
      const afterSeparator = i > 0 && subject[i - 1] === SEPARATOR;
      if (c === GLOB) {
        // The text before a wildcard is added again from scratch, so escapes in it are parsed a second time.
        const node = this.addFrom(text, false).child(GLOB);
        node.isWildcard = true;
        if (i === last) {
          node.isTerminal = terminal;
          return node;
        }
        return node.addFrom(subject.slice(i + 1), true);
      }
      if (c === MULTI_LEVEL) {
        const level = this.addFrom(text, false);
        const node = level.child(MULTI_LEVEL);
        if (i === last) {
          node.isTerminal = true;
          if (afterSeparator) {
            node.isMqttWildcard = true;
            node.matchAll = true;
            level.isTerminalLevel = true;
          }
          return node;
        }
        return node.addFrom(subject.slice(i + 1), true);
      }
      if (c === SINGLE_LEVEL) {
        const node = this.addFrom(text, false).child(SINGLE_LEVEL);
        if (i === last) {
          node.isTerminal = true;
          if (afterSeparator) node.isMqttWildcard = true;
          return node;
        }
        if (afterSeparator && subject[i + 1] === SEPARATOR) node.isMqttWildcard = true;
        return node.addFrom(subject.slice(i + 1), true);
      }
      if (c === '$') {
        const escaped = escapedCharacter(subject.slice(i));
        if (escaped !== undefined) {
          text += escaped;
          i += 3;
          continue;
        }
      }
      text += c;
    }
    const node = this.child(text);
    node.isTerminal ||= terminal;
    return node;
  }

  /**
   * matchesStandard, the lookup of every service but mqttproxy (aws.greengrass.ipc.pubsub among them): only `*` is a
   * wildcard; `+` and `#` nodes are matched as the literal text they hold.
   */
  matchesStandard(topic: string): boolean {
    if ((this.isWildcard && this.isTerminal) || (this.isTerminal && topic.length === 0)) return true;
    const candidates: Candidates = new Map();
    for (const [key, node] of this.children.entries()) {
      if (node.isWildcard && key === GLOB) {
        if (node.matchesStandard(topic)) return true;
        continue;
      }
      if (topic.startsWith(key) && node.matchesStandard(topic.slice(key.length))) return true;
      if (this.isWildcard) {
        for (let at = topic.indexOf(key); at >= 0; at = topic.indexOf(key, at + 1)) candidates.set(topic.slice(at + key.length), node);
      }
    }
    if (!this.isWildcard) return false;
    for (const [rest, node] of candidates) if (node.matchesStandard(rest)) return true;
    return false;
  }

  /** matchesMQTT: `+` and `#` count only where the resource used them as whole levels; the topic is plain text. */
  matchesMqtt(topic: string): boolean {
    if ((this.isWildcard && this.isTerminal) || (this.isTerminal && topic.length === 0)) return true;
    if (this.isMqttWildcard && (this.matchAll || (this.isTerminal && !topic.includes(SEPARATOR)))) return true;

    const candidates: Candidates = new Map();
    for (const [childKey, node] of this.children.entries()) {
      const wildcardChild =
        (node.isWildcard && childKey === GLOB) || (node.isMqttWildcard && (childKey === SINGLE_LEVEL || childKey === MULTI_LEVEL));
      if (wildcardChild) {
        if (node.matchesMqtt(topic)) return true;
        continue;
      }
      if (topic.startsWith(childKey) && node.matchesMqtt(topic.slice(childKey.length))) return true;

      let key = childKey;
      // "abc/#" matches "abc", and "abc/*xy/#" matches "abc/12xy".
      if (node.isTerminalLevel) {
        const withoutSeparator = childKey.slice(0, -1);
        if (topic === withoutSeparator) return true;
        if (topic.endsWith(withoutSeparator)) key = withoutSeparator;
      }
      if (this.isWildcard) {
        for (let at = topic.indexOf(key); at >= 0 && at < topic.length; at = topic.indexOf(key, at + 1)) {
          candidates.set(topic.slice(at + key.length), node);
        }
      }
      if (this.isMqttWildcard) {
        // What a `+` swallows stays inside one level.
        for (
          let at = topic.indexOf(key);
          at >= 0 && at < topic.length && !topic.slice(0, at).includes(SEPARATOR);
          at = topic.indexOf(key, at + 1)
        ) {
          candidates.set(topic.slice(at + key.length), node);
        }
      }
    }
    if (!this.isWildcard && !this.isMqttWildcard) return false;
    for (const [rest, node] of candidates) if (node.matchesMqtt(rest)) return true;
    return false;
  }
}
