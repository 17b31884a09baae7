/**
 * One sample's datapoints: what a behavior's metric measures on the device, from the sample's true values (the lists
 * as collected, before any trimming to the report's byte budget), and whether that measurement violates the criteria.
 *
 * Set semantics (device-defender-troubleshoot): with `in-*` every reported element must be inside the set, with
 * `not-in-*` none may be; an empty list conforms.
 */
import type { CustomMetricValue, EstablishedConnection, ListeningPort } from '../metrics/types';
import type { Behavior, BehaviorCriteria, MetricKind, MetricValue } from '../config/behaviors';
import type { DestinationTable } from '../metrics/destinations';
import { ipWords, type Network, networkContains, parseCidr } from '../metrics/networks';
import { AddressSet, destinationTableOf } from './cidr';

/** What the detector needs of a collected sample (src/collect/collector.ts CollectedSample has these fields). */
export interface DetectionSample {
  listeningTcpPorts?: ListeningPort[];
  listeningUdpPorts?: ListeningPort[];
  establishedConnections?: EstablishedConnection[];
  /**
   * The true number of established sockets when the collection built fewer connection objects than exist
   * (CollectOptions.maxListedConnections); the list then holds one connection per distinct remote address first.
   */
  establishedConnectionsTotal?: number;
  /** Every distinct destination, uncapped (the collector's samples have it); else the listed connections' destinations. */
  destinations?: DestinationTable;
  customMetrics: Record<string, CustomMetricValue>;
}

/** A measurement: the MetricValue member the metric uses, as an alarm's `metricValue` carries it. */
export type Measurement = MetricValue;

/** Most list elements an alarm's metricValue carries (the offending ones first): 10,000 addresses do not fit a message. */
const MAX_LISTED_IN_EVENT = 100;

/**
 * Per-sample caches shared by all behaviors: the distinct destination addresses are parsed once, and each CIDR is
 * matched against them once, however many behaviors name it.
 */
export class SampleView {
  private destinations: AddressSet | undefined;

  constructor(readonly sample: DetectionSample) {}

  destinationAddresses(): AddressSet | undefined {
    const { destinations, establishedConnections } = this.sample;
    if (!destinations && !establishedConnections) return undefined;
    this.destinations ??= new AddressSet(destinations ?? destinationTableOf(establishedConnections ?? []));
    return this.destinations;
  }
}

/** Criteria compiled once per configuration: sets as Sets, CIDRs parsed. */
export interface CompiledCriteria {
  criteria: BehaviorCriteria;
  ports?: ReadonlySet<number>;
  networks?: readonly Network[];
  numbers?: ReadonlySet<number>;
  strings?: ReadonlySet<string>;
}

export function compileCriteria(criteria: BehaviorCriteria): CompiledCriteria {
  const { value } = criteria;
  return {
    criteria,
    ...(value.ports ? { ports: new Set(value.ports) } : {}),
    ...(value.cidrs ? { networks: value.cidrs.map((c) => parseCidr(c)).filter((n): n is Network => n !== undefined) } : {}),
    ...(value.numbers ? { numbers: new Set(value.numbers) } : {}),
    ...(value.strings ? { strings: new Set(value.strings) } : {}),
  };
}

export interface Datapoint {
  value: Measurement;
  violating: boolean;
}

/** A value compared as Device Defender does: `metric <operator> threshold` is the normal behavior. */
function conformsNumeric<T extends number | bigint>(operator: BehaviorCriteria['comparisonOperator'], measured: T, threshold: T): boolean {
  switch (operator) {
    case 'less-than':
      return measured < threshold;
    case 'less-than-equals':
      return measured <= threshold;
    case 'greater-than':
      return measured > threshold;
    case 'greater-than-equals':
      return measured >= threshold;
    default:
      return true;
  }
}

/** A count (list lengths, traffic sums): exact against a threshold up to 2^63-1, as bigints. */
export function countDatapoint(compiled: CompiledCriteria, measured: bigint): Datapoint {
  const { comparisonOperator, value } = compiled.criteria;
  return { value: { count: measured }, violating: !conformsNumeric(comparisonOperator, measured, value.count ?? 0n) };
}

/** A custom metric's number: a double, as the API's Number is. */
function numberDatapoint(compiled: CompiledCriteria, measured: number): Datapoint {
  const { comparisonOperator, value } = compiled.criteria;
  return { value: { number: measured }, violating: !conformsNumeric(comparisonOperator, measured, value.number ?? 0) };
}

/** In-set: elements outside offend; not-in-set: elements inside offend. Offending elements are listed first. */
function setDatapoint<T>(
  elements: readonly T[],
  inside: (element: T) => boolean,
  wantInside: boolean,
): { violating: boolean; listed: T[] } {
  const offending: T[] = [];
  const rest: T[] = [];
  for (const element of elements) (inside(element) === wantInside ? rest : offending).push(element);
  return { violating: offending.length > 0, listed: [...offending, ...rest].slice(0, MAX_LISTED_IN_EVENT) };
}

/**
 * The datapoint of a non-traffic behavior in this sample, or undefined when the sample does not carry its metric
 * (a block that could not be read, a custom metric that failed, or one of another type than the behavior expects).
 */
export function measureSample(
  kind: Exclude<MetricKind, { kind: 'traffic' }>,
  compiled: CompiledCriteria,
  view: SampleView,
): Datapoint | undefined {
  const { comparisonOperator } = compiled.criteria;
  const sample = view.sample;
  switch (kind.kind) {
    case 'count': {
      const list = sample[kind.list];
      if (!list) return undefined;
      const total = kind.list === 'establishedConnections' ? Math.max(list.length, sample.establishedConnectionsTotal ?? 0) : list.length;
      return countDatapoint(compiled, BigInt(total));
    }
    case 'ports': {
      const list = sample[kind.list];
      if (!list) return undefined;
      const ports = [...new Set(list.map((p) => p.port))];
      const set = compiled.ports ?? new Set<number>();
      const result = setDatapoint(ports, (p) => set.has(p), comparisonOperator === 'in-port-set');
      return { value: { ports: result.listed }, violating: result.violating };
    }
    case 'destination-ips': {
      const addresses = view.destinationAddresses();
      if (!addresses) return undefined;
      const inside = addresses.inside(compiled.networks ?? []);
      const wantInside = comparisonOperator === 'in-cidr-set';
      // Whole 32-address words at a time: the offending addresses are listed first, then the conforming ones, up to
      // MAX_LISTED_IN_EVENT in all.
      const listed: string[] = [];
      let violating = false;
      for (const pass of ['offending', 'rest'] as const) {
        for (let w = 0; w < inside.length; w++) {
          const isInside = inside[w] as number;
          // The last word holds count % 32 addresses when count is not a multiple of 32.
          const present = w * 32 + 32 <= addresses.count ? -1 : (1 << (addresses.count & 31)) - 1;
          let bits = ((pass === 'offending') === wantInside ? ~isInside : isInside) & present;
          if (bits !== 0 && pass === 'offending') violating = true;
          while (bits !== 0 && listed.length < MAX_LISTED_IN_EVENT) {
            const bit = 31 - Math.clz32(bits & -bits);
            bits &= bits - 1;
            listed.push(addresses.address(w * 32 + bit));
          }
        }
      }
      return { value: { cidrs: listed }, violating };
    }
    case 'custom': {
      const metric = Object.hasOwn(sample.customMetrics, kind.name) ? sample.customMetrics[kind.name] : undefined;
      if (!metric || metric.type !== kind.type) return undefined;
      switch (metric.type) {
        case 'number':
          return numberDatapoint(compiled, metric.value);
        case 'number-list': {
          const set = compiled.numbers ?? new Set<number>();
          const result = setDatapoint(metric.value, (n) => set.has(n), comparisonOperator === 'in-set');
          return { value: { numbers: result.listed }, violating: result.violating };
        }
        case 'string-list': {
          const set = compiled.strings ?? new Set<string>();
          const result = setDatapoint(metric.value, (s) => set.has(s), comparisonOperator === 'in-set');
          return { value: { strings: result.listed }, violating: result.violating };
        }
        default: {
          const networks = compiled.networks ?? [];
          const parsed = metric.value.map((text) => ({ text, words: ipWords(text) }));
          const result = setDatapoint(
            parsed,
            (a) => a.words !== undefined && networks.some((n) => networkContains(n, a.words as ArrayLike<number>)),
            comparisonOperator === 'in-cidr-set',
          );
          return { value: { cidrs: result.listed.map((a) => a.text) }, violating: result.violating };
        }
      }
    }
  }
}

/** Behaviors with criteria, compiled: what the detector evaluates. */
export interface EvaluatedBehavior {
  behavior: Behavior;
  kind: MetricKind;
  compiled: CompiledCriteria;
}
