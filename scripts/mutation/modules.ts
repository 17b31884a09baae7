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
  // The procfs parsers (src/collect), one module per file, each judged by its own unit tests. The fuzz and collector
  // tests are not among them: they cover every mutant of the four files, so each mutant cost a fuzz run (~10 s), and a
  // parser loop made endless waited out its time (a full run of the four together took over an hour on two cores); the
  // unit tests alone kill every mutant not listed as equivalent below.
  {
    name: 'procfs sockets',
    mutate: ['src/collect/sockets.ts'],
    tests: ['test/collect/sockets.test.ts', 'test/collect/windows/ip-helper-tables.test.ts'],
  },
  { name: 'procfs netdev', mutate: ['src/collect/netdev.ts'], tests: ['test/collect/netdev.test.ts'] },
  { name: 'procfs interfaces', mutate: ['src/collect/interfaces.ts'], tests: ['test/collect/interfaces.test.ts'] },
  { name: 'procfs ip', mutate: ['src/collect/ip.ts'], tests: ['test/collect/ip.test.ts', 'test/collect/sockets.test.ts'] },
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
const NETDEV = 'src/collect/netdev.ts';
const INTERFACES = 'src/collect/interfaces.ts';
const IP = 'src/collect/ip.ts';
const SOCKETS = 'src/collect/sockets.ts';
const FAST_PATH_REASON =
  'the fast path (the colon at +4 after four digits or spaces) is then never taken, and the scan it saves finds the same colon: a digit or space run ends at the first other byte, which in a row the fast path accepts is that colon; what it saves is time, which no unit test may time';
const ROW_END_REASON =
  "the byte at `end` is the row's newline (or past the end of a row carried over between chunks, undefined), which is neither a digit nor a space: the scan stops there either way";
const ROUND_FILTER_REASON =
  'every group has its first entry (its first socket is new: the table is emptied with each summary and the group is new), and a group goes on to the next round only when it has an entry for it; the kept <= round check and the kept > round + 1 filter each make the other redundant';
const ROUTE_COLUMNS_REASON =
  'split(/\\s+/) of a trimmed line gives no empty column, so a row with its mask (the 8th) has every column before it, and a row without one fails the HEX8 test next (HEX8.test(undefined) tests "undefined"): these checks narrow the types for TypeScript';
const NO_INTERFACE_NAME_REASON = 'the name before a missing or leading colon is the empty string, which isInterfaceName refuses next';

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

  // The procfs parsers (src/collect).
  {
    file: NETDEV,
    mutator: 'ConditionalExpression',
    original: 'colon < 0',
    replacement: 'false',
    reason: NO_INTERFACE_NAME_REASON,
  },
  {
    file: NETDEV,
    mutator: 'EqualityOperator',
    original: 'colon < 0',
    replacement: 'colon <= 0',
    reason: NO_INTERFACE_NAME_REASON,
  },
  {
    file: NETDEV,
    mutator: 'ConditionalExpression',
    original: 'colon >= 0',
    replacement: 'true',
    reason: NO_INTERFACE_NAME_REASON,
  },
  {
    file: NETDEV,
    mutator: 'EqualityOperator',
    original: 'colon >= 0',
    replacement: 'colon > 0',
    reason: NO_INTERFACE_NAME_REASON,
  },
  {
    file: NETDEV,
    mutator: 'StringLiteral',
    original: "''",
    replacement: '"Stryker was here!"',
    line: "return (text.split('\\n', 2)[1] ?? '').includes('|bytes');",
    reason: "a text without a second line: 'Stryker was here!' does not include '|bytes' either",
  },
  {
    file: NETDEV,
    mutator: 'MethodExpression',
    original: "text.split('\\n').slice(2)",
    replacement: "text.split('\\n')",
    reason: 'the two header lines have no colon: no name is read from them either way',
  },
  {
    file: INTERFACES,
    mutator: 'ArrayDeclaration',
    original: '[]',
    replacement: '["Stryker was here"]',
    line: 'const links: Array<{ name: string; network: number; mask: number }> = [];',
    reason:
      'the extra link is a string, whose mask is undefined: `undefined > mask` and `undefined === mask` are false, so it never names an address',
  },
  {
    file: INTERFACES,
    mutator: 'MethodExpression',
    original: "route.split('\\n').slice(1)",
    replacement: "route.split('\\n')",
    reason: "the header line's columns are words (Destination, Gateway, Mask), which fail the HEX8 test: it is skipped either way",
  },
  {
    file: INTERFACES,
    mutator: 'ConditionalExpression',
    original: '!name || !destination || !gateway || !flags || !mask',
    replacement: 'false',
    reason: ROUTE_COLUMNS_REASON,
  },
  {
    file: INTERFACES,
    mutator: 'LogicalOperator',
    original: '!name || !destination || !gateway || !flags || !mask',
    replacement: '(!name || !destination || !gateway || !flags) && !mask',
    reason: ROUTE_COLUMNS_REASON,
  },
  {
    file: INTERFACES,
    mutator: 'ConditionalExpression',
    original: '!name || !destination || !gateway || !flags',
    replacement: 'false',
    reason: ROUTE_COLUMNS_REASON,
  },
  {
    file: INTERFACES,
    mutator: 'LogicalOperator',
    original: '!name || !destination || !gateway || !flags',
    replacement: '(!name || !destination || !gateway) && !flags',
    reason: ROUTE_COLUMNS_REASON,
  },
  {
    file: INTERFACES,
    mutator: 'ConditionalExpression',
    original: '!name || !destination || !gateway',
    replacement: 'false',
    reason: ROUTE_COLUMNS_REASON,
  },
  {
    file: INTERFACES,
    mutator: 'LogicalOperator',
    original: '!name || !destination || !gateway',
    replacement: '(!name || !destination) && !gateway',
    reason: ROUTE_COLUMNS_REASON,
  },
  {
    file: INTERFACES,
    mutator: 'ConditionalExpression',
    original: '!name || !destination',
    replacement: 'false',
    reason: ROUTE_COLUMNS_REASON,
  },
  {
    file: INTERFACES,
    mutator: 'LogicalOperator',
    original: '!name || !destination',
    replacement: '!name && !destination',
    reason: ROUTE_COLUMNS_REASON,
  },
  {
    file: INTERFACES,
    mutator: 'ConditionalExpression',
    original: 'maskValue === 0',
    replacement: 'false',
    reason:
      'a link with mask 0 never names an address: the best match starts at mask 0, a tie with it keeps the name undefined, and only a larger mask wins',
  },
  {
    file: INTERFACES,
    mutator: 'ConditionalExpression',
    original: 'value >= 0',
    replacement: 'true',
    reason: 'the value of dotted decimal digits is never negative',
  },
  {
    file: INTERFACES,
    mutator: 'EqualityOperator',
    original: 'value >= 0',
    replacement: 'value > 0',
    reason: "the kernel prints octets without leading zeros, so a value of 0 is '0.0.0.0', which the test before has left out",
  },
  {
    file: IP,
    mutator: 'UnaryOperator',
    original: '-1',
    replacement: '+1',
    line: 'const digit = HEX_DIGITS[bytes[i] ?? 0] ?? -1;',
    reason: 'bytes hold 0 to 255, every index of the 256-entry table (a byte past the end reads as 0): the `?? -1` is never evaluated',
  },
  {
    file: IP,
    mutator: 'ArrayDeclaration',
    original: '[0, 0, 0, 0]',
    replacement: '[]',
    reason: 'the loop writes all four words before the array is returned (it returns undefined at the first non-hex word)',
  },
  {
    file: IP,
    mutator: 'EqualityOperator',
    original: 'g < 8',
    replacement: 'g <= 8',
    reason: 'a ninth group (from words[4], undefined, so 0) is pushed, and formatIpv6Groups reads only groups 0 to 7',
  },
  {
    file: IP,
    mutator: 'EqualityOperator',
    original: 'i < 8',
    replacement: 'i <= 8',
    reason: 'groups[8] is undefined, which is not 0: the ninth pass only steps past it',
  },
  {
    file: IP,
    mutator: 'ConditionalExpression',
    original: 'end < 8',
    replacement: 'true',
    reason: 'groups[8] is undefined, which is not 0: the zero run stops at 8 either way',
  },
  {
    file: IP,
    mutator: 'EqualityOperator',
    original: 'end < 8',
    replacement: 'end <= 8',
    reason: 'groups[8] is undefined, which is not 0: the zero run stops at 8 either way',
  },
  {
    file: IP,
    mutator: 'StringLiteral',
    original: "''",
    replacement: '"Stryker was here!"',
    line: "const withoutZone = address.split('%')[0] ?? '';",
    reason: "split always gives a first element: the `?? ''` is never evaluated",
  },
  {
    file: IP,
    mutator: 'StringLiteral',
    original: "''",
    replacement: '"Stryker was here!"',
    line: "const high = parseInt(mapped[1] ?? '', 16);",
    reason: "the pattern matched, so both groups are set: the `?? ''` is never evaluated",
  },
  {
    file: IP,
    mutator: 'StringLiteral',
    original: "''",
    replacement: '"Stryker was here!"',
    line: "const low = parseInt(mapped[2] ?? '', 16);",
    reason: "the pattern matched, so both groups are set: the `?? ''` is never evaluated",
  },
  {
    file: IP,
    mutator: 'BlockStatement',
    original: '{\n    return undefined;\n  }',
    replacement: '{}',
    reason: "host is then undefined: the mapped pattern does not match 'undefined', and `return host` gives undefined, as the catch did",
  },
  {
    file: IP,
    mutator: 'ConditionalExpression',
    original: "!withoutZone.includes(':')",
    replacement: 'false',
    reason:
      'a text without a colon is no IPv6 address: the URL parser then refuses `[text]`, and the catch gives undefined, as this shortcut does',
  },
  {
    file: IP,
    mutator: 'StringLiteral',
    original: "':'",
    replacement: '""',
    line: "if (!withoutZone.includes(':')) return undefined;",
    reason:
      'a text without a colon is no IPv6 address: the URL parser then refuses `[text]`, and the catch gives undefined, as this shortcut does',
  },
  {
    file: SOCKETS,
    mutator: 'LogicalOperator',
    original: 'address === undefined && !this.ipv6.has(hex)',
    replacement: 'address === undefined || !this.ipv6.has(hex)',
    reason: 'parses a text it has cached as not an address again, to the same undefined; what the cache saves is time',
  },
  {
    file: SOCKETS,
    mutator: 'ConditionalExpression',
    original: 'address === undefined',
    replacement: 'true',
    line: 'if (address === undefined && !this.ipv6.has(hex)) {',
    reason: 'an address the map holds is defined, or undefined and held (has() true): the same two cases skip the parse',
  },
  {
    file: SOCKETS,
    mutator: 'ConditionalExpression',
    original: 'c !== undefined',
    replacement: 'true',
    reason: 'undefined >= 48 is false: the range test refuses a missing byte either way (the check narrows the type for TypeScript)',
  },
  {
    file: SOCKETS,
    mutator: 'ObjectLiteral',
    original: "{ state: 0, localAddress: '', localPort: 0, remote: parsedAddress('', []), remotePort: 0 }",
    replacement: '{}',
    reason: 'the row object handed to onRow has every field set before each call: its first values are never read',
  },
  {
    file: SOCKETS,
    mutator: 'StringLiteral',
    original: "''",
    replacement: '"Stryker was here!"',
    line: "private readonly row: SocketRow = { state: 0, localAddress: '', localPort: 0, remote: parsedAddress('', []), remotePort: 0 };",
    reason: 'a first value of the reused row object, set again before every onRow call',
  },
  {
    file: SOCKETS,
    mutator: 'ArrayDeclaration',
    original: '[]',
    replacement: '["Stryker was here"]',
    line: "private readonly row: SocketRow = { state: 0, localAddress: '', localPort: 0, remote: parsedAddress('', []), remotePort: 0 };",
    reason: 'a first value of the reused row object, set again before every onRow call',
  },
  {
    file: SOCKETS,
    mutator: 'ConditionalExpression',
    original:
      'bytes[colon] !== COLON ||\n      !isDigitOrSpace(bytes[start]) ||\n      !isDigitOrSpace(bytes[start + 1]) ||\n      !isDigitOrSpace(bytes[start + 2]) ||\n      !isDigitOrSpace(bytes[start + 3])',
    replacement: 'true',
    reason: FAST_PATH_REASON,
  },
  {
    file: SOCKETS,
    mutator: 'ArithmeticOperator',
    original: 'start + 1',
    replacement: 'start - 1',
    line: '!isDigitOrSpace(bytes[start + 1]) ||',
    reason:
      "bytes[start - 1] is the newline before the row (or before the buffer, undefined), never a digit or space: the fast path is never taken, and the scan finds the same colon (as for the condition's `true` mutant)",
  },
  {
    file: SOCKETS,
    mutator: 'ConditionalExpression',
    original: 'colon < end',
    replacement: 'true',
    reason: ROW_END_REASON,
  },
  {
    file: SOCKETS,
    mutator: 'EqualityOperator',
    original: 'colon < end',
    replacement: 'colon <= end',
    reason: ROW_END_REASON,
  },
  {
    file: SOCKETS,
    mutator: 'ConditionalExpression',
    original: 'stateAt + 3 <= end',
    replacement: 'true',
    reason:
      'bytes[stateAt + 2] === SPACE, tested in the same expression, is false for a row that ends before stateAt + 3: the byte at end is its newline or past the buffer',
  },
  {
    file: SOCKETS,
    mutator: 'ArithmeticOperator',
    original: 'stateAt + 3',
    replacement: 'stateAt - 3',
    reason:
      'bytes[stateAt + 2] === SPACE, tested in the same expression, is false for a row that ends before stateAt + 3: the byte at end is its newline or past the buffer',
  },
  {
    file: SOCKETS,
    mutator: 'ConditionalExpression',
    original: 'word !== this.lastIpv4Word',
    replacement: 'true',
    reason: 'looks the address up in the cache again, which gives the same object; what the last-word shortcut saves is time',
  },
  {
    file: SOCKETS,
    mutator: 'StringLiteral',
    original: "''",
    replacement: '"Stryker was here!"',
    line: "const key = `${row.localPort}/${name ?? ''}`;",
    reason:
      "the wildcard entry's key part: it would meet a named entry's only for an interface named 'Stryker was here!' (Linux refuses spaces in interface names)",
  },
  {
    file: SOCKETS,
    mutator: 'ConditionalExpression',
    original: '!this.ports.has(key)',
    replacement: 'true',
    reason: "sets an equal entry again under the same key, which keeps the place of the first (a Map keeps a key's first position)",
  },
  {
    file: SOCKETS,
    mutator: 'ConditionalExpression',
    original: 'groups.length > 0',
    replacement: 'true',
    reason:
      'lowerCut keeps at least listLimit entries in the rounds below cutRound, so the groups hold at least `wanted` entries: the list reaches it and returns inside the loop before the groups run out',
  },
  {
    file: SOCKETS,
    mutator: 'EqualityOperator',
    original: 'groups.length > 0',
    replacement: 'groups.length >= 0',
    reason: 'as groups.length > 0 -> true: the loop returns once `wanted` entries are listed, before the groups run out',
  },
  {
    file: SOCKETS,
    mutator: 'ConditionalExpression',
    original: 'group.kept <= round',
    replacement: 'false',
    reason: ROUND_FILTER_REASON,
  },
  {
    file: SOCKETS,
    mutator: 'EqualityOperator',
    original: 'group.kept <= round',
    replacement: 'group.kept < round',
    reason: ROUND_FILTER_REASON,
  },
  {
    file: SOCKETS,
    mutator: 'ConditionalExpression',
    original: 'group.kept > round + 1',
    replacement: 'true',
    reason: ROUND_FILTER_REASON,
  },
  {
    file: SOCKETS,
    mutator: 'EqualityOperator',
    original: 'group.kept > round + 1',
    replacement: 'group.kept >= round + 1',
    reason: ROUND_FILTER_REASON,
  },
  {
    file: SOCKETS,
    mutator: 'ArithmeticOperator',
    original: 'round + 1',
    replacement: 'round - 1',
    line: 'if (group.kept > round + 1) remaining.push(group);',
    reason: ROUND_FILTER_REASON,
  },
  {
    file: SOCKETS,
    mutator: 'OptionalChaining',
    original: 'group.moreInterfaces?.[round - 1]',
    replacement: 'group.moreInterfaces[round - 1]',
    reason: 'a group listed in a round past 0 has more than one entry, so its arrays of more entries exist',
  },
  {
    file: SOCKETS,
    mutator: 'ConditionalExpression',
    original: 'localAddress !== this.lastLocalAddress',
    replacement: 'true',
    reason: 'asks interfaceOf again for the same address, which gives the same name; what the last-address shortcut saves is time',
  },
  {
    file: SOCKETS,
    mutator: 'LogicalOperator',
    original: 'group.morePorts === undefined || group.moreInterfaces === undefined',
    replacement: 'group.morePorts === undefined && group.moreInterfaces === undefined',
    reason: 'morePorts and moreInterfaces are made together: both undefined or both set, so either test alone decides',
  },
  {
    file: SOCKETS,
    mutator: 'ConditionalExpression',
    original: 'group.morePorts === undefined',
    replacement: 'false',
    reason: 'morePorts and moreInterfaces are made together: both undefined or both set, so either test alone decides',
  },
  {
    file: SOCKETS,
    mutator: 'ConditionalExpression',
    original: 'group.moreInterfaces === undefined',
    replacement: 'false',
    reason: 'morePorts and moreInterfaces are made together: both undefined or both set, so either test alone decides',
  },
  {
    file: SOCKETS,
    mutator: 'ConditionalExpression',
    original: 'Number.isFinite(this.listLimit)',
    replacement: 'true',
    reason:
      'with no limit roundSizes is empty (its writes are ignored, its reads undefined), so keptBelowCut - undefined is NaN, never >= Infinity: cutRound stays Infinity',
  },
  {
    file: SOCKETS,
    mutator: 'ConditionalExpression',
    original: 'this.cutRound > 1',
    replacement: 'true',
    reason:
      'at cutRound 1 the rounds below it are round 0 alone, so keptBelowCut - sizes[0] is 0, never >= a listLimit of 1 or more (a limit of 0 keeps no entry, so never gets here)',
  },
  {
    file: SOCKETS,
    mutator: 'EqualityOperator',
    original: 'this.cutRound > 1',
    replacement: 'this.cutRound >= 1',
    reason:
      'at cutRound 1 the rounds below it are round 0 alone, so keptBelowCut - sizes[0] is 0, never >= a listLimit of 1 or more (a limit of 0 keeps no entry, so never gets here)',
  },
  {
    file: SOCKETS,
    mutator: 'ConditionalExpression',
    original: 'stored === fingerprint',
    replacement: 'true',
    reason:
      'the fingerprint is a function of (group, ports), so a record whose fingerprint differs has another group or ports, which the full comparison finds; what the fingerprint saves is reading the record (a cache miss)',
  },
  {
    file: SOCKETS,
    mutator: 'ArrayDeclaration',
    original: 'new Array<string>(capacity)',
    replacement: 'new Array()',
    reason:
      'the records are written in order from index 0, and an array grows as it is written: the same values; the preallocated length saves the growing',
  },
  {
    file: SOCKETS,
    mutator: 'UpdateOperator',
    original: '++summaries',
    replacement: '--summaries',
    reason: "the serials are then -1, -2, ...: as distinct from each other and from an address's first groupedBy, 0",
  },
];
