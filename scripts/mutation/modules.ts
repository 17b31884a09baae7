/**
 * What `npm run test:mutation` mutates, which unit tests judge each module, the floor, and the mutants excluded as
 * equivalent (no test can tell them from the original), each with the reason.
 */

export interface MutationModule {
  name: string;
  /** Source files mutated (repository-relative). */
  mutate: string[];
  /**
   * Unit test files, or folders of them, that run against the mutants (tests mirror src/). Only tests that judge the
   * module: a test that waits on real sockets or time fails Stryker's initial run on a busy machine.
   */
  tests: string[];
}

/**
 * A mutant no behaviour can tell from the original. Matched on its file, Stryker's mutator name, the original source
 * text the mutant replaces and its replacement, so that an edit elsewhere in the file does not unmatch it.
 */
export interface EquivalentMutant {
  file: string;
  mutator: string;
  original: string;
  replacement: string;
  /** The source line the mutant starts on (trimmed), when the original text alone occurs where the mutant is not equivalent. */
  line?: string;
  reason: string;
}

/**
 * The module's committed baseline (repository-relative), Stryker's incremental file: `--incremental` retests only the
 * mutants whose code or covering tests changed since it was written.
 */
export function baselineFile(module: MutationModule): string {
  return `scripts/mutation/baseline/${module.name.replace(/[^a-z0-9]+/g, '-')}.json`;
}

/** Every module's score must reach this (killed + timed out, over all mutants but the equivalent ones). */
export const FLOOR_PERCENT = 85;

export const MODULES: readonly MutationModule[] = [
  {
    name: 'detection',
    mutate: ['src/detect/detector.ts', 'src/detect/measure.ts', 'src/detect/cidr.ts', 'src/config/behaviors.ts'],
    tests: ['test/detect', 'test/config'],
  },
  {
    name: 'report build',
    mutate: ['src/report/build.ts', 'src/report/names.ts', 'src/report/custom-metric-values.ts'],
    tests: ['test/report'],
  },
  { name: 'network delta', mutate: ['src/state/network-delta.ts'], tests: ['test/state/network-delta.test.ts'] },
  {
    name: 'config parsing',
    mutate: ['src/config/parse.ts', 'src/config/values.ts', 'src/config/names.ts', 'src/config/detection.ts'],
    tests: ['test/config', 'test/detect'],
  },
  {
    name: 'procfs parsers',
    mutate: ['src/collect/sockets.ts', 'src/collect/netdev.ts', 'src/collect/interfaces.ts', 'src/collect/ip.ts'],
    tests: [
      'test/collect/sockets.test.ts',
      'test/collect/netdev.test.ts',
      'test/collect/interfaces.test.ts',
      'test/collect/ip.test.ts',
      'test/collect/procfs-fuzz.test.ts',
      'test/collect/collector.test.ts',
    ],
  },
  { name: 'eventstream codec', mutate: ['src/ipc/eventstream.ts'], tests: ['test/ipc/eventstream.test.ts', 'test/ipc/frame-size.test.ts'] },
];

const EVENTSTREAM = 'src/ipc/eventstream.ts';
const JOIN_REASON =
  "as 'this.waitingBytes < this.needed' -> false: the splitter then waits for a wrong or no number of bytes, which changes only when the chunks are joined and the frame is decided again, not which frames come out";
const REPORT_BUILD = 'src/report/build.ts';
const CONFIG_VALUES = 'src/config/values.ts';
const CONFIG_DETECTION = 'src/config/detection.ts';
const CUSTOM_VALUES = 'src/report/custom-metric-values.ts';
const BEHAVIORS = 'src/config/behaviors.ts';
const DETECTOR = 'src/detect/detector.ts';
const MEASURE = 'src/detect/measure.ts';
const CIDR = 'src/detect/cidr.ts';

export const EQUIVALENT_MUTANTS: readonly EquivalentMutant[] = [
  {
    file: 'src/config/parse.ts',
    mutator: 'ObjectLiteral',
    original: '{ ...defaultsCache.customMetrics }',
    replacement: '{}',
    reason: "the recipe's default customMetrics is {}: a new empty object either way (the copy keeps a caller's change out of the cache)",
  },
  {
    file: CONFIG_VALUES,
    mutator: 'ConditionalExpression',
    original: "typeof n !== 'number'",
    replacement: 'false',
    reason: 'Number.isInteger, tested next, is false for every value that is not a number (it does not coerce)',
  },
  {
    file: CONFIG_VALUES,
    mutator: 'ConditionalExpression',
    original: "typeof text !== 'string'",
    replacement: 'false',
    reason: 'allowed.includes, tested next, compares without coercion: a value that is not a string is never one of the allowed words',
  },
  {
    file: CONFIG_DETECTION,
    mutator: 'ConditionalExpression',
    original: "typeof kind !== 'string'",
    replacement: 'false',
    reason: 'DRILL_KINDS.includes, tested next, compares without coercion: a kind that is not a string is never a drill kind',
  },
  {
    file: REPORT_BUILD,
    mutator: 'ArrowFunction',
    original: '() => 0',
    replacement: '() => undefined',
    reason: 'the document with empty lists is the same: assembleDocument reads a missing count as 0 (listed[index] ?? 0)',
  },
  {
    file: REPORT_BUILD,
    mutator: 'EqualityOperator',
    original: 'sum <= budget',
    replacement: 'sum < budget',
    reason:
      'stops one entry sooner only when the entries so far fill the budget exactly: the entry it leaves unmeasured could never fit, and an unmeasured count reads as not fitting',
  },
  {
    file: REPORT_BUILD,
    mutator: 'ConditionalExpression',
    original: 'colon < 0',
    replacement: 'false',
    reason:
      "remoteAddr is always `ip:port` (EstablishedConnection's contract; the socket summary writes it with formatEndpoint), so the colon is found: the branch for none is a guard no collected connection reaches",
  },
  {
    file: REPORT_BUILD,
    mutator: 'EqualityOperator',
    original: 'colon < 0',
    replacement: 'colon <= 0',
    reason: 'as colon < 0 -> false: a remoteAddr starts with an address, never with its colon',
  },
  {
    file: 'src/config/parse.ts',
    mutator: 'ConditionalExpression',
    original: '!defaultsCache',
    replacement: 'true',
    reason: 'parses the recipe defaults again at every call: the same values, what the cache saves is time',
  },
  {
    file: REPORT_BUILD,
    mutator: 'OptionalChaining',
    original: 'this.prefixSizes[index]?.[count]',
    replacement: 'this.prefixSizes[index][count]',
    reason: 'every list has its prefix sizes (one array per list, built in the constructor): the ?. never short-circuits',
  },
  {
    file: REPORT_BUILD,
    mutator: 'EqualityOperator',
    original: 'length <= k',
    replacement: 'length < k',
    reason: 'a list of exactly k entries then searches [k, k], which gives k: the length it already has',
  },
  {
    file: CUSTOM_VALUES,
    mutator: 'ConditionalExpression',
    original: "typeof value !== 'number'",
    replacement: 'false',
    reason:
      'Number.isFinite, tested next, is false for every value that is not a number (it does not coerce): the typeof test narrows the type for TypeScript only',
  },
  {
    file: CUSTOM_VALUES,
    mutator: 'ConditionalExpression',
    original: "typeof value === 'number'",
    replacement: 'true',
    line: "return typeof value === 'number' && Number.isFinite(value);",
    reason: 'as in customNumberProblem: Number.isFinite alone is false for every value that is not a number',
  },
  {
    file: CUSTOM_VALUES,
    mutator: 'ConditionalExpression',
    original: 'value === 0',
    replacement: 'false',
    reason: "0 and -0 both go through toPrecision as '0.00000000000000', which Number reads as 0: the value the shortcut returns",
  },
  {
    file: CUSTOM_VALUES,
    mutator: 'EqualityOperator',
    original: 'value < 0n',
    replacement: 'value <= 0n',
    reason: 'negating 0n gives 0n (a bigint has no -0): the same digits',
  },
  {
    file: EVENTSTREAM,
    mutator: 'StringLiteral',
    original: "'keep'",
    replacement: '""',
    reason: `'' is neither 'drop' nor 'keep', so the frame waits for ''.until, undefined; ${JOIN_REASON}`,
  },
  {
    file: EVENTSTREAM,
    mutator: 'ConditionalExpression',
    original: "decided === 'keep'",
    replacement: 'false',
    reason: `a kept frame then waits for 'keep'.until, undefined; ${JOIN_REASON}`,
  },
  {
    file: EVENTSTREAM,
    mutator: 'ObjectLiteral',
    original: '{ until: PRELUDE_LENGTH }',
    replacement: '{}',
    reason: JOIN_REASON,
  },
  {
    file: EVENTSTREAM,
    mutator: 'ObjectLiteral',
    original: '{ until: headersEnd }',
    replacement: '{}',
    reason: JOIN_REASON,
  },
  {
    file: EVENTSTREAM,
    mutator: 'EqualityOperator',
    original: 'this.pending.length < PRELUDE_LENGTH',
    replacement: 'this.pending.length <= PRELUDE_LENGTH',
    reason: `with exactly the prelude in, it waits for one more chunk before deciding: ${JOIN_REASON}`,
  },
  {
    file: EVENTSTREAM,
    mutator: 'EqualityOperator',
    original: 'this.pending.length < headersEnd',
    replacement: 'this.pending.length <= headersEnd',
    reason: `with exactly the headers in, it waits for one more chunk before deciding: ${JOIN_REASON}`,
  },
  {
    file: EVENTSTREAM,
    mutator: 'ConditionalExpression',
    original: 'input.length === 0',
    replacement: 'false',
    reason:
      'nothing is pending while a frame is dropped (pending is emptied when dropping starts), so an empty rest goes through the loop to the same []',
  },
  {
    file: EVENTSTREAM,
    mutator: 'ConditionalExpression',
    original: 'checked > 0',
    replacement: 'true',
    reason: 'the CRC of no bytes, carried on from frame.crc, is frame.crc',
  },
  {
    file: EVENTSTREAM,
    mutator: 'EqualityOperator',
    original: 'checked > 0',
    replacement: 'checked >= 0',
    reason: 'the CRC of no bytes, carried on from frame.crc, is frame.crc',
  },
  {
    file: EVENTSTREAM,
    mutator: 'EqualityOperator',
    original: 'n < 256',
    replacement: 'n <= 256',
    reason: 'the extra pass writes crcTable[256], past the end of a 256-entry Uint32Array: a write typed arrays ignore',
  },
  {
    file: EVENTSTREAM,
    mutator: 'ConditionalExpression',
    original: '!crcTable',
    replacement: 'true',
    reason: 'builds the CRC table again at every call: the same 256 entries, so the same CRCs',
  },
  {
    file: EVENTSTREAM,
    mutator: 'StringLiteral',
    original: "'utf8'",
    replacement: '""',
    line: "const name = Buffer.from(header.name, 'utf8');",
    reason: "Buffer.from(string, '') encodes as Node's default, UTF-8 (toString('') throws instead: those mutants are not listed)",
  },
  {
    file: EVENTSTREAM,
    mutator: 'StringLiteral',
    original: "'utf8'",
    replacement: '""',
    line: "const data = value.type === 'bytes' ? value.value : Buffer.from(value.value, 'utf8');",
    reason: "Buffer.from(string, '') encodes as Node's default, UTF-8",
  },
  {
    file: EVENTSTREAM,
    mutator: 'ConditionalExpression',
    original: "value.type === 'bytes'",
    replacement: 'false',
    line: "const data = value.type === 'bytes' ? value.value : Buffer.from(value.value, 'utf8');",
    reason:
      'a bytes value then goes through Buffer.from(buffer, encoding), which copies the bytes unchanged (the type code is chosen on its own line)',
  },
  {
    file: EVENTSTREAM,
    mutator: 'StringLiteral',
    original: "'bytes'",
    replacement: '""',
    line: "const data = value.type === 'bytes' ? value.value : Buffer.from(value.value, 'utf8');",
    reason: "as the 'bytes' -> false mutant on this line: a copy of the same bytes",
  },
  {
    file: EVENTSTREAM,
    mutator: 'ConditionalExpression',
    original: 'this.waitingBytes < this.needed',
    replacement: 'false',
    reason:
      'joins the chunks of an incomplete frame at every chunk instead of once: the same frames and bufferedBytes; what it saves (copying a large frame over and over) is CPU, which no unit test may time',
  },
  {
    file: EVENTSTREAM,
    mutator: 'ConditionalExpression',
    original: 'this.pending.length === 0',
    replacement: 'false',
    reason: 'joins the chunk to an empty buffer instead of taking it as is: the same bytes',
  },

  // Detection (src/detect, src/config/behaviors.ts).
  {
    file: BEHAVIORS,
    mutator: 'EqualityOperator',
    original: 'raw < 0',
    replacement: 'raw <= 0',
    reason: 'reached only when raw is not a safe whole number >= 0, which 0 is: raw is never 0 here',
  },
  {
    file: BEHAVIORS,
    mutator: 'ConditionalExpression',
    original: 'count !== undefined',
    replacement: 'true',
    reason: 'undefined >= 0n is false, so a count that was not read is out of range either way',
  },
  {
    file: DETECTOR,
    mutator: 'ConditionalExpression',
    original: '!state',
    replacement: 'false',
    reason: 'configure gives every behavior it evaluates a state, and restore calls configure again: the state is never missing',
  },
  {
    file: DETECTOR,
    mutator: 'StringLiteral',
    original: "'0'",
    replacement: '""',
    reason: "BigInt('') is 0n, as BigInt('0') is: the sum of a period that has not started is 0 either way",
  },
  {
    file: DETECTOR,
    mutator: 'EqualityOperator',
    original: 'atMs < state.silentSinceMs',
    replacement: 'atMs <= state.silentSinceMs',
    reason: 'at the same time the silence start is set to the value it already has',
  },
  {
    file: DETECTOR,
    mutator: 'ConditionalExpression',
    original: "typeof value !== 'object'",
    replacement: 'false',
    reason: 'a primitive (what JSON gives besides objects and null) has no fingerprint property: the next check refuses it',
  },
  {
    file: DETECTOR,
    mutator: 'ConditionalExpression',
    original: "typeof v.violationId === 'string'",
    replacement: 'true',
    reason: 'adds violationId: undefined, which every reader takes as no id (?? and truthiness) and JSON leaves out when saved',
  },
  {
    file: DETECTOR,
    mutator: 'ConditionalExpression',
    original: "typeof v.silentSinceMs === 'number'",
    replacement: 'true',
    reason: 'adds silentSinceMs: undefined, which every reader takes as no silence (=== undefined) and JSON leaves out when saved',
  },
  {
    file: MEASURE,
    mutator: 'ArrayDeclaration',
    original: '[]',
    replacement: '["Stryker was here"]',
    line: 'this.destinations ??= new AddressSet(destinations ?? destinationTableOf(establishedConnections ?? []));',
    reason: 'never evaluated: the line above returns when both the table and the connections are missing',
  },
  {
    file: MEASURE,
    mutator: 'MethodExpression',
    original: 'value.cidrs.map((c) => parseCidr(c)).filter((n): n is Network => n !== undefined)',
    replacement: 'value.cidrs.map(c => parseCidr(c))',
    reason: 'criteria come from parseBehaviors, which refuses a CIDR parseCidr does not take: nothing is filtered out',
  },
  {
    file: MEASURE,
    mutator: 'ConditionalExpression',
    original: 'n !== undefined',
    replacement: 'true',
    line: '...(value.cidrs ? { networks: value.cidrs.map((c) => parseCidr(c)).filter((n): n is Network => n !== undefined) } : {}),',
    reason: 'as the filter above: parseBehaviors has refused every CIDR parseCidr does not take',
  },
  {
    file: MEASURE,
    mutator: 'ConditionalExpression',
    original: 'default:\n      return true;',
    replacement: 'default:',
    reason: 'counts and custom numbers are compared only with the four numeric operators (parseBehaviors pairs them so): never reached',
  },
  {
    file: MEASURE,
    mutator: 'BooleanLiteral',
    original: 'true',
    replacement: 'false',
    line: 'return true;',
    reason: 'the default of conformsNumeric: never reached, as the entry above says',
  },
  {
    file: MEASURE,
    mutator: 'ArrayDeclaration',
    original: '[]',
    replacement: '["Stryker was here"]',
    line: 'const inside = addresses.inside(compiled.networks ?? []);',
    reason: 'compileCriteria sets networks for every CIDR operator (parseBehaviors requires cidrs with them): never evaluated',
  },
  {
    file: MEASURE,
    mutator: 'ArrayDeclaration',
    original: '[]',
    replacement: '["Stryker was here"]',
    line: 'const networks = compiled.networks ?? [];',
    reason: 'as for aws:destination-ip-addresses: an ip-address-list behavior always has its networks compiled',
  },
  {
    file: CIDR,
    mutator: 'EqualityOperator',
    original: 'w < result.length',
    replacement: 'w <= result.length',
    reason: 'one step past the end of a Uint32Array: the read gives undefined (| makes it 0) and the write is ignored',
  },
  {
    file: CIDR,
    mutator: 'ConditionalExpression',
    original: 'bitmap',
    replacement: 'false',
    reason:
      "computes a network's bitmap again instead of taking it from this sample's cache: the same bits; what it saves is time, which no unit test may time",
  },
];
