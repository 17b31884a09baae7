/**
 * Checks a report document against the Device Defender schema (docs/device-defender-report.md, sections 1-3) before it
 * is published, and in the local core's fake Device Defender on decoded payloads. Each message
 * names the path as it appears in the report, e.g.
 * `metrics.listening_tcp_ports.ports[3].port: must be an integer 1..65535`.
 *
 * Integers may be numbers or bigints (decoders return bigint above 2^53).
 */
import { isIP } from 'node:net';
import { metricNameProblem } from '../config/names';
import { customNumberProblem, ipListEntryProblem, stringListEntryProblem } from './custom-metric-values';
import { CUSTOM_VALUE_KEYS, keyNames, LONG_TO_SHORT, SHORT_TO_LONG, type KeyNames, type LongName } from './names';

type Fields = Record<string, unknown>;

/** Empty when the report is valid. */
export function validateReport(document: unknown): string[] {
  if (!isFields(document)) return ['report: must be an object'];
  const long = 'header' in document;
  const short = 'hed' in document;
  if (long && short) return ['report: has both "header" and "hed": a report uses long or short names, not both'];
  const checker = new ReportChecker(short || (!long && ('met' in document || 'cmet' in document)));
  checker.check(document);
  return checker.errors;
}

const REMOTE_ADDR_V4 = /^([0-9.]+):(\d{1,5})$/;
const REMOTE_ADDR_V6 = /^\[([0-9a-fA-F:.]+)\]:(\d{1,5})$/;

class ReportChecker {
  readonly errors: string[] = [];
  private readonly names: KeyNames;

  constructor(private readonly shortNames: boolean) {
    this.names = keyNames(shortNames);
  }

  check(document: Fields): void {
    const n = this.names;
    this.allowOnly(document, '', ['header', 'metrics', 'custom_metrics']);
    const header = this.object(document, '', 'header', true);
    if (header) {
      this.allowOnly(header, n.header, ['report_id', 'version']);
      const reportId = header[n.report_id];
      if (!(isInteger(reportId) && reportId > 0)) this.fail(join(n.header, n.report_id), 'must be a positive integer');
      const version = header[n.version];
      if (typeof version !== 'string' || !/^\d+\.\d+$/.test(version))
        this.fail(join(n.header, n.version), 'must be a "Major.Minor" string such as "1.0"');
    }
    if (!(n.metrics in document) && !(n.custom_metrics in document))
      this.fail('report', `needs a "${n.metrics}" or a "${n.custom_metrics}" block`);
    const metrics = this.object(document, '', 'metrics', false);
    if (metrics) this.checkMetrics(metrics);
    const customMetrics = this.object(document, '', 'custom_metrics', false);
    if (customMetrics) this.checkCustomMetrics(customMetrics);
  }

  private checkMetrics(metrics: Fields): void {
    const n = this.names;
    this.allowOnly(metrics, n.metrics, ['listening_tcp_ports', 'listening_udp_ports', 'network_stats', 'tcp_connections']);
    for (const block of ['listening_tcp_ports', 'listening_udp_ports'] as const) {
      const ports = this.object(metrics, n.metrics, block, false);
      if (ports) this.checkList(ports, join(n.metrics, n[block]), 'ports', (entry, path) => this.checkPort(entry, path));
    }
    const stats = this.object(metrics, n.metrics, 'network_stats', false);
    if (stats) {
      const path = join(n.metrics, n.network_stats);
      this.allowOnly(stats, path, ['bytes_in', 'bytes_out', 'packets_in', 'packets_out']);
      for (const counter of ['bytes_in', 'bytes_out', 'packets_in', 'packets_out'] as const) {
        const value = stats[n[counter]];
        if (value !== undefined && !(isInteger(value) && value >= 0))
          this.fail(join(path, n[counter]), 'must be a non-negative integer (a delta)');
      }
    }
    const tcp = this.object(metrics, n.metrics, 'tcp_connections', false);
    if (tcp) {
      const tcpPath = join(n.metrics, n.tcp_connections);
      this.allowOnly(tcp, tcpPath, ['established_connections']);
      const established = this.object(tcp, tcpPath, 'established_connections', false);
      if (established) {
        this.checkList(established, join(tcpPath, n.established_connections), 'connections', (entry, path) =>
          this.checkConnection(entry, path),
        );
      }
    }
  }

  /** A block holding a list and its `total` (the true count, at least the list's length). */
  private checkList(
    block: Fields,
    path: string,
    listKey: 'ports' | 'connections',
    checkEntry: (entry: Fields, path: string) => void,
  ): void {
    const n = this.names;
    this.allowOnly(block, path, [listKey, 'total']);
    const list = block[n[listKey]];
    const listPath = join(path, n[listKey]);
    if (list !== undefined && !Array.isArray(list)) this.fail(listPath, 'must be a list');
    if (Array.isArray(list)) {
      list.forEach((entry: unknown, index) => {
        const entryPath = `${listPath}[${index}]`;
        if (isFields(entry)) checkEntry(entry, entryPath);
        else this.fail(entryPath, 'must be an object');
      });
    }
    const total = block[n.total];
    if (total === undefined) return;
    if (!(isInteger(total) && total >= 0)) this.fail(join(path, n.total), 'must be a non-negative integer');
    else if (Array.isArray(list) && total < list.length)
      this.fail(join(path, n.total), `is ${total}, less than the ${list.length} entries listed`);
  }

  private checkPort(entry: Fields, path: string): void {
    const n = this.names;
    this.allowOnly(entry, path, ['port', 'interface']);
    const port = entry[n.port];
    if (!(isInteger(port) && port >= 1 && port <= 65535)) this.fail(join(path, n.port), 'must be an integer 1..65535');
    this.optionalString(entry, path, 'interface');
  }

  private checkConnection(entry: Fields, path: string): void {
    const n = this.names;
    this.allowOnly(entry, path, ['remote_addr', 'local_port', 'local_interface']);
    const remote = entry[n.remote_addr];
    if (typeof remote !== 'string' || !isRemoteAddress(remote)) {
      this.fail(join(path, n.remote_addr), 'must be "ip:port" with a port 1..65535, IPv6 in brackets ("[2001:db8::1]:443")');
    }
    const localPort = entry[n.local_port];
    if (localPort !== undefined && !(isInteger(localPort) && localPort >= 0 && localPort <= 65535)) {
      this.fail(join(path, n.local_port), 'must be an integer 0..65535');
    }
    this.optionalString(entry, path, 'local_interface');
  }

  private checkCustomMetrics(customMetrics: Fields): void {
    const base = this.names.custom_metrics;
    for (const [name, value] of Object.entries(customMetrics)) {
      const path = join(base, name);
      const nameProblem = metricNameProblem(name);
      if (nameProblem) this.fail(path, nameProblem);
      const wrapped = Array.isArray(value) && value.length === 1 ? value[0] : undefined;
      const keys = isFields(wrapped) ? Object.keys(wrapped) : [];
      const valueKey = CUSTOM_VALUE_KEYS.find((key) => key === keys[0]);
      if (!isFields(wrapped) || keys.length !== 1 || valueKey === undefined) {
        this.fail(path, `must be a one-element list holding one of ${CUSTOM_VALUE_KEYS.map((key) => `{"${key}": ...}`).join(', ')}`);
        continue;
      }
      const valuePath = `${path}[0].${valueKey}`;
      const item = wrapped[valueKey];
      if (valueKey === 'number') {
        const problem = customNumberProblem(item);
        if (problem) this.fail(valuePath, problem);
        continue;
      }
      if (!Array.isArray(item)) {
        this.fail(valuePath, 'must be a list');
        continue;
      }
      const entryProblem = { number_list: customNumberProblem, string_list: stringListEntryProblem, ip_list: ipListEntryProblem }[valueKey];
      item.forEach((entry: unknown, index) => {
        const problem = entryProblem(entry);
        if (problem) this.fail(`${valuePath}[${index}]`, problem);
      });
    }
  }

  private object(parent: Fields, parentPath: string, key: LongName, required: boolean): Fields | undefined {
    const value = parent[this.names[key]];
    const path = join(parentPath, this.names[key]);
    if (value === undefined) {
      if (required) this.fail(path, 'required');
      return undefined;
    }
    if (!isFields(value)) {
      this.fail(path, 'must be an object');
      return undefined;
    }
    return value;
  }

  private optionalString(entry: Fields, path: string, key: LongName): void {
    const value = entry[this.names[key]];
    if (value !== undefined && typeof value !== 'string') this.fail(join(path, this.names[key]), 'must be a string');
  }

  private allowOnly(fields: Fields, path: string, allowed: readonly LongName[]): void {
    const wireNames = new Set(allowed.map((key) => this.names[key]));
    for (const key of Object.keys(fields)) {
      if (wireNames.has(key)) continue;
      const otherModeNames: Readonly<Record<string, string>> = this.shortNames ? LONG_TO_SHORT : SHORT_TO_LONG;
      const counterpart = Object.hasOwn(otherModeNames, key) ? otherModeNames[key] : undefined;
      const mode = this.shortNames ? 'short' : 'long';
      this.fail(
        join(path, key),
        counterpart !== undefined && allowed.some((allowedKey) => this.names[allowedKey] === counterpart)
          ? `${this.shortNames ? 'long' : 'short'} name in a ${mode}-name report (use "${counterpart}"): do not mix naming modes`
          : 'unknown key',
      );
    }
  }

  private fail(path: string, message: string): void {
    this.errors.push(`${path}: ${message}`);
  }
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function isFields(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isInteger(value: unknown): value is number | bigint {
  return typeof value === 'bigint' || (typeof value === 'number' && Number.isSafeInteger(value));
}

function isRemoteAddress(value: string): boolean {
  const v6 = REMOTE_ADDR_V6.exec(value);
  const v4 = v6 ? undefined : REMOTE_ADDR_V4.exec(value);
  const match = v6 ?? v4;
  if (!match) return false;
  const port = Number(match[2]);
  return isIP(match[1] ?? '') === (v6 ? 6 : 4) && port >= 1 && port <= 65535;
}
