/**
 * Checks an AWS SDK v3 request against the official service model of its operation (botocore JSON, vendored
 * in test/support/aws-models/): unknown members, required members, types, enums, patterns, lengths and ranges.
 * It proves a request is well formed for the API; it says nothing about what the service does with it, nor
 * about IAM.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

export type ModelService = 'greengrassv2' | 'iot' | 's3' | 'sts' | 'sns' | 'iam' | 'logs' | 'lambda' | 'iot-data' | 'cloudwatch';

interface ShapeRef {
  shape: string;
  idempotencyToken?: boolean;
  streaming?: boolean;
  location?: string;
}

interface Shape {
  type: string;
  members?: Record<string, ShapeRef>;
  required?: string[];
  member?: ShapeRef;
  key?: ShapeRef;
  value?: ShapeRef;
  enum?: string[];
  pattern?: string;
  min?: number;
  max?: number;
  union?: boolean;
  streaming?: boolean;
}

interface ServiceModel {
  operations: Record<string, { input?: { shape: string } }>;
  shapes: Record<string, Shape>;
}

const MODELS_DIR = join(__dirname, 'aws-models');
const models = new Map<ModelService, ServiceModel>();
const patterns = new Map<string, RegExp>();

function loadModel(service: ModelService): ServiceModel {
  const cached = models.get(service);
  if (cached) return cached;
  const serviceDir = join(MODELS_DIR, service);
  const [version] = readdirSync(serviceDir);
  if (!version) throw new Error(`no vendored model for ${service}`);
  const model = JSON.parse(gunzipSync(readFileSync(join(serviceDir, version, 'service-2.json.gz'))).toString('utf8')) as ServiceModel;
  models.set(service, model);
  return model;
}

/** Java character classes the models use, as their ASCII ranges (Java's POSIX classes are ASCII-only by default). */
const POSIX_CLASSES: Record<string, string> = {
  Graph: '\\x21-\\x7E',
  Upper: 'A-Z',
  Digit: '0-9',
  Cntrl: '\\x00-\\x1F\\x7F',
};

/**
 * A model pattern (Java syntax) as a JavaScript RegExp matching the whole value, as the services' validators do
 * ("Member must satisfy regular expression pattern").
 */
export function modelPattern(javaPattern: string): RegExp {
  const cached = patterns.get(javaPattern);
  if (cached) return cached;
  let source = javaPattern
    .replace(/\\A/g, '^')
    .replace(/\\[zZ]/g, '$')
    .replace(/\\u([0-9A-Fa-f]{5,6})/g, '\\u{$1}')
    .replace(/\\p\{(Graph|Upper|Digit|Cntrl)\}/g, (_, name: string) => POSIX_CLASSES[name] ?? '');
  const unicode = /\\p\{|\\u\{/.test(source);
  if (unicode) {
    // Unicode mode rejects identity escapes of non-syntax characters and class escapes as range ends.
    source = source.replace(/\\([:'"@#,=&%!~`<>])/g, '$1').replace(/\\w-_/g, '\\w_-');
  }
  const expression = new RegExp(`^(?:${source})$`, unicode ? 'u' : '');
  patterns.set(javaPattern, expression);
  return expression;
}

function show(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Date) return 'a Date';
  if (value instanceof Uint8Array) return 'bytes';
  return typeof value === 'string' ? `"${value.length > 60 ? `${value.slice(0, 60)}…` : value}"` : typeof value;
}

function isStream(value: unknown): boolean {
  return typeof value === 'object' && value !== null && typeof (value as { pipe?: unknown }).pipe === 'function';
}

class Checker {
  readonly violations: string[] = [];

  constructor(private readonly model: ServiceModel) {}

  private fail(path: string, problem: string): void {
    this.violations.push(`${path}: ${problem}`);
  }

  private bounds(path: string, shape: Shape, size: number | bigint, unit: string): void {
    if (shape.min !== undefined && size < shape.min) this.fail(path, `${unit} ${size} is under the minimum ${shape.min}`);
    if (shape.max !== undefined && size > shape.max) this.fail(path, `${unit} ${size} is over the maximum ${shape.max}`);
  }

  check(path: string, shapeName: string, value: unknown, ref?: ShapeRef): void {
    const shape = this.model.shapes[shapeName];
    if (!shape) {
      this.fail(path, `shape ${shapeName} is missing from the model`);
      return;
    }
    switch (shape.type) {
      case 'structure':
        this.structure(path, shape, value);
        return;
      case 'list':
        if (!Array.isArray(value)) {
          this.fail(path, `expected a list, got ${show(value)}`);
          return;
        }
        this.bounds(path, shape, value.length, 'length');
        value.forEach((item, index) => {
          if (shape.member) this.check(`${path}[${index}]`, shape.member.shape, item);
        });
        return;
      case 'map': {
        if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Date) {
          this.fail(path, `expected a map, got ${show(value)}`);
          return;
        }
        const entries = Object.entries(value);
        this.bounds(path, shape, entries.length, 'entry count');
        for (const [key, item] of entries) {
          if (shape.key) this.check(`${path} key "${key}"`, shape.key.shape, key);
          if (shape.value) this.check(`${path}.${key}`, shape.value.shape, item);
        }
        return;
      }
      case 'string': {
        if (typeof value !== 'string') {
          this.fail(path, `expected a string, got ${show(value)}`);
          return;
        }
        if (shape.enum && !shape.enum.includes(value)) {
          this.fail(path, `${show(value)} is not one of ${shape.enum.join(', ')}`);
        }
        this.bounds(path, shape, [...value].length, 'length');
        if (shape.pattern && !modelPattern(shape.pattern).test(value)) {
          this.fail(path, `${show(value)} does not match the pattern ${shape.pattern}`);
        }
        return;
      }
      case 'long':
        // A bigint is how a long beyond 2^53 is given to the AWS SDK v3, which writes its exact digits.
        if (typeof value === 'bigint') {
          if (value > 2n ** 63n - 1n || value < -(2n ** 63n)) this.fail(path, `${value} does not fit a 64-bit integer`);
          this.bounds(path, shape, value, 'value');
          return;
        }
        if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
          this.fail(path, `expected an integer the SDK sends exactly (a number up to 2^53-1 or a bigint), got ${show(value)}`);
          return;
        }
        this.bounds(path, shape, value, 'value');
        return;
      case 'integer':
        if (typeof value !== 'number' || !Number.isInteger(value)) {
          this.fail(path, `expected an integer, got ${show(value)}`);
          return;
        }
        if (value > 2 ** 31 - 1 || value < -(2 ** 31)) this.fail(path, `${value} does not fit a 32-bit integer`);
        this.bounds(path, shape, value, 'value');
        return;
      case 'double':
      case 'float':
        if (typeof value !== 'number' || !Number.isFinite(value)) {
          this.fail(path, `expected a number, got ${show(value)}`);
          return;
        }
        this.bounds(path, shape, value, 'value');
        return;
      case 'boolean':
        if (typeof value !== 'boolean') this.fail(path, `expected a boolean, got ${show(value)}`);
        return;
      case 'timestamp':
        if (!(value instanceof Date) || Number.isNaN(value.getTime())) this.fail(path, `expected a valid Date, got ${show(value)}`);
        return;
      case 'blob':
        if (value instanceof Uint8Array) {
          this.bounds(path, shape, value.byteLength, 'byte length');
          return;
        }
        if ((shape.streaming || ref?.streaming) && (typeof value === 'string' || isStream(value))) return;
        this.fail(path, `expected bytes (Uint8Array), got ${show(value)}`);
        return;
      default:
        this.fail(path, `unsupported shape type ${shape.type}`);
    }
  }

  private structure(path: string, shape: Shape, value: unknown): void {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Date) {
      this.fail(path, `expected a structure, got ${show(value)}`);
      return;
    }
    const members = shape.members ?? {};
    const record = value as Record<string, unknown>;
    const present = Object.keys(record).filter((name) => record[name] !== undefined);
    for (const name of present) {
      if (!(name in members)) this.fail(path, `unknown member "${name}" (the model has: ${Object.keys(members).join(', ') || 'none'})`);
    }
    for (const name of shape.required ?? []) {
      // The SDK fills idempotency tokens itself before sending.
      if (record[name] === undefined && !members[name]?.idempotencyToken) this.fail(path, `required member "${name}" is missing`);
    }
    if (shape.union && present.length !== 1) this.fail(path, `a union takes exactly one member, got ${present.length}`);
    for (const name of present) {
      const member = members[name];
      if (member) this.check(`${path}.${name}`, member.shape, record[name], member);
    }
  }
}

/** Every violation of `input` against the input shape of `service`'s `operation`; empty when the request is valid. */
export function validateRequest(service: ModelService, operation: string, input: unknown): string[] {
  const model = loadModel(service);
  const definition = model.operations[operation];
  if (!definition) return [`${service} has no operation ${operation}`];
  if (!definition.input) {
    const members = Object.entries((input ?? {}) as object).filter(([, value]) => value !== undefined);
    return members.length === 0 ? [] : [`${operation} takes no input, got ${members.map(([name]) => name).join(', ')}`];
  }
  const checker = new Checker(model);
  checker.check(operation, definition.input.shape, input ?? {});
  return checker.violations;
}

/** Throws with every violation listed when `input` is not a valid `operation` request. */
export function assertValidRequest(service: ModelService, operation: string, input: unknown): void {
  const violations = validateRequest(service, operation, input);
  if (violations.length > 0) {
    throw new Error(`${service} ${operation} request violates the AWS service model:\n  ${violations.join('\n  ')}`);
  }
}

/** For CloudWatch Logs requests (the `logs` subcommand): the same check against the logs model. */
export function assertValidLogsRequest(operation: string, input: unknown): void {
  assertValidRequest('logs', operation, input);
}

/** Every pattern any vendored model uses, so a test can prove each one compiles. */
export function allModelPatterns(service: ModelService): string[] {
  return [
    ...new Set(
      Object.values(loadModel(service).shapes)
        .map((shape) => shape.pattern)
        .filter((pattern): pattern is string => pattern !== undefined),
    ),
  ];
}

/** The command name an SDK v3 command object was built from, e.g. CreateDeploymentCommand -> CreateDeployment. */
export function operationOf(command: object): string {
  return command.constructor.name.replace(/Command$/, '');
}
