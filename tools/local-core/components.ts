/**
 * The components the local core knows: their auth tokens (svcuid), configuration and the access policies read from
 * it, as the nucleus keeps them under services.<name>.
 */
import { randomInt } from 'node:crypto';
import { MQTT_PROXY_SERVICE } from '../../src/component/definition';
import { PUBLISH_TO_TOPIC_OPERATION, PUBSUB_SERVICE } from '../../src/detect/permissions';
import { interpolateThingName, parseServicePolicies, PolicyTable } from './authorization';
import { findKey, type ConfigObject } from './config-store';
import type { EmitEvent } from './core-events';
import { SUBSCRIBE_TO_TOPIC_OPERATION } from './local-pubsub';
import { ModeledError, NOT_AUTHORIZED } from './service-model';

/** The operations authorized against aws.greengrass.ipc.pubsub; everything else here is mqttproxy. */
const PUBSUB_OPERATIONS = new Set([PUBLISH_TO_TOPIC_OPERATION, SUBSCRIBE_TO_TOPIC_OPERATION]);

const SVCUID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const SVCUID_LENGTH = 16;

/** `configuration` is the recipe's DefaultConfiguration, accessControl included. */
export interface ComponentRegistration {
  name: string;
  version: string;
  configuration: Record<string, unknown>;
}

export interface ComponentRecord {
  name: string;
  version: string;
  svcuid: string;
  defaults: ConfigObject;
  configuration: ConfigObject;
  policies: PolicyTable;
  /** aws.greengrass.ipc.pubsub policies: local publish/subscribe. */
  pubsubPolicies: PolicyTable;
}

function newSvcuid(): string {
  return Array.from({ length: SVCUID_LENGTH }, () => SVCUID_ALPHABET[randomInt(SVCUID_ALPHABET.length)]).join('');
}

export interface ComponentRegistryOptions {
  thingName: string;
  /** Substitute `{iot:thingName}` into configuration, like the nucleus's interpolateComponentConfiguration. */
  interpolate: boolean;
  /** Substitute `{iot:thingName}` into accessControl's resources only, as nucleus lite's ggipcd does. */
  interpolateAccessControl?: boolean;
  emit: EmitEvent;
}

export class ComponentRegistry {
  private readonly components = new Map<string, ComponentRecord>();
  private readonly componentsByToken = new Map<string, string>();

  constructor(private readonly options: ComponentRegistryOptions) {}

  /** The same name again keeps its svcuid (unless another is given) and replaces version and configuration. */
  register(registration: ComponentRegistration, svcuidWanted?: string): { svcuid: string } {
    const existing = this.components.get(registration.name);
    const svcuid = svcuidWanted ?? existing?.svcuid ?? newSvcuid();
    const owner = this.componentsByToken.get(svcuid);
    if (owner !== undefined && owner !== registration.name) throw new Error(`svcuid is already used by component ${owner}`);
    if (existing) this.componentsByToken.delete(existing.svcuid);
    const configuration = this.interpolated(structuredClone(registration.configuration));
    const record: ComponentRecord = {
      name: registration.name,
      version: registration.version,
      svcuid,
      defaults: configuration,
      configuration: structuredClone(configuration),
      policies: new PolicyTable(),
      pubsubPolicies: new PolicyTable(),
    };
    this.components.set(record.name, record);
    this.componentsByToken.set(svcuid, record.name);
    this.reloadPolicies(record);
    return { svcuid };
  }

  componentForToken(token: string): string | undefined {
    return this.componentsByToken.get(token);
  }

  find(name: string): ComponentRecord | undefined {
    return this.components.get(name);
  }

  require(name: string): ComponentRecord {
    const record = this.components.get(name);
    if (!record) throw new Error(`component ${name} is not registered with the local core`);
    return record;
  }

  /** A deployment applied: the new configuration, and accessControl read again from it. */
  applyConfiguration(record: ComponentRecord, configuration: ConfigObject): void {
    record.configuration = configuration;
    this.reloadPolicies(record);
  }

  /** Throws the nucleus's UnauthorizedError (and tells the user) unless the component's policies allow the call. */
  authorize(component: string, operation: string, topic: string): void {
    const record = this.components.get(component);
    const policies = PUBSUB_OPERATIONS.has(operation) ? record?.pubsubPolicies : record?.policies;
    if (!policies?.isAuthorized(operation, topic)) {
      this.options.emit('denied', { component, operation, resource: topic });
      throw new ModeledError('UnauthorizedError', NOT_AUTHORIZED);
    }
  }

  interpolated<T>(value: T): T {
    return this.options.interpolate ? interpolateThingName(value, this.options.thingName) : value;
  }

  private reloadPolicies(record: ComponentRecord): void {
    const key = findKey(record.configuration, 'accessControl');
    const written = key === undefined ? undefined : record.configuration[key];
    const accessControl = this.options.interpolateAccessControl ? interpolateThingName(written, this.options.thingName) : written;
    const mqtt = parseServicePolicies(accessControl, MQTT_PROXY_SERVICE);
    record.policies = mqtt.policies;
    if (mqtt.problem !== undefined) this.options.emit('access-control-error', { component: record.name, problem: mqtt.problem });
    const pubsub = parseServicePolicies(accessControl, PUBSUB_SERVICE);
    record.pubsubPolicies = pubsub.policies;
    if (pubsub.problem !== undefined) this.options.emit('access-control-error', { component: record.name, problem: pubsub.problem });
  }
}
