/**
 * Component configuration over IPC (GetConfiguration, SubscribeToConfigurationUpdate, the validation pair) and the
 * configuration-only deployments that change it, as the nucleus's ConfigStoreIPCEventStreamAgent and
 * DynamicComponentConfigurationValidator do (docs/greengrass-ipc.md).
 */
import { randomUUID } from 'node:crypto';
import type { ComponentRegistry } from './components';
import {
  changedPaths,
  configurationValue,
  isConfigObject,
  isWithin,
  lookup,
  mergeConfiguration,
  resetConfiguration,
  type ConfigObject,
} from './config-store';
import { keyPathField, stringField, type EmitEvent, type OperationHandler, type Request } from './core-events';
import type { RpcStream } from './rpc-connection';
import { KEY_NOT_FOUND, ModeledError, qualified, Shapes } from './service-model';

/** `reset` holds JSON pointers applied before `merge`, like a deployment's configurationUpdate. */
export interface ConfigurationUpdate {
  merge?: Record<string, unknown>;
  reset?: string[];
}

export interface DeploymentResult {
  status: 'APPLIED' | 'REJECTED';
  message?: string;
}

interface ConfigSubscription {
  target: string;
  keyPath: string[];
  stream: RpcStream;
}

interface ValidityReport {
  status: string;
  deploymentId: string;
  message?: string;
}

export class ConfigurationService {
  private readonly subscriptions = new Set<ConfigSubscription>();
  /** The nucleus keeps one validation subscriber per component: the first one. */
  private readonly validators = new Map<string, RpcStream>();
  private readonly pendingValidations = new Map<string, (report: ValidityReport | string) => void>();
  private deployments: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly components: ComponentRegistry,
    private readonly emit: EmitEvent,
  ) {}

  handlers(): Array<[string, OperationHandler]> {
    return [
      [qualified('GetConfiguration'), (stream, request) => this.getConfiguration(stream, request)],
      [qualified('SubscribeToConfigurationUpdate'), (stream, request) => this.subscribeToConfigurationUpdate(stream, request)],
      [qualified('SubscribeToValidateConfigurationUpdates'), (stream) => this.subscribeToValidateConfigurationUpdates(stream)],
      [qualified('SendConfigurationValidityReport'), (stream, request) => this.sendConfigurationValidityReport(stream, request)],
    ];
  }

  /**
   * Like a deployment that changes only configuration: the component's validator (if subscribed) gets the proposed
   * configuration and must report within the timeout; REJECTED or no report fails the deployment without changing
   * anything. Otherwise the change is applied, subscribers hear about every changed node and accessControl is re-read.
   * Deployments run one at a time.
   */
  deploy(componentName: string, update: ConfigurationUpdate, validationTimeoutMs: number): Promise<DeploymentResult> {
    const run = this.deployments.then(() => this.runDeployment(componentName, update, validationTimeoutMs));
    this.deployments = run.catch(() => undefined);
    return run;
  }

  /** The core is stopping: deployments waiting for a validation report fail with `reason`. */
  abandonValidations(reason: string): void {
    for (const settle of [...this.pendingValidations.values()]) settle(reason);
  }

  private getConfiguration(stream: RpcStream, request: Request): unknown {
    const componentName = stringField(request, 'componentName') ?? stream.component;
    const configuration = this.components.find(componentName)?.configuration;
    const value = configuration === undefined ? undefined : configurationValue(configuration, keyPathField(request));
    if (value === undefined) throw new ModeledError('ResourceNotFoundError', KEY_NOT_FOUND);
    return { componentName, value };
  }

  private subscribeToConfigurationUpdate(stream: RpcStream, request: Request): unknown {
    const target = stringField(request, 'componentName') ?? stream.component;
    const configuration = this.components.find(target)?.configuration;
    const keyPath = keyPathField(request);
    if (configuration === undefined || !lookup(configuration, keyPath).found)
      throw new ModeledError('ResourceNotFoundError', KEY_NOT_FOUND);
    const subscription: ConfigSubscription = { target, keyPath, stream };
    this.subscriptions.add(subscription);
    stream.onClose(() => this.subscriptions.delete(subscription));
    return {};
  }

  private subscribeToValidateConfigurationUpdates(stream: RpcStream): unknown {
    const component = stream.component;
    if (!this.validators.get(component)?.isOpen) {
      this.validators.set(component, stream);
      stream.onClose(() => {
        if (this.validators.get(component) === stream) this.validators.delete(component);
      });
    }
    return {};
  }

  private sendConfigurationValidityReport(stream: RpcStream, request: Request): unknown {
    const report = request.configurationValidityReport;
    const settle = this.pendingValidations.get(stream.component);
    if (!settle) throw new ModeledError('InvalidArgumentsError', 'Validation request either timed out or was never made');
    const fields = isConfigObject(report) ? report : {};
    const validity: ValidityReport = {
      status: String(fields.status),
      deploymentId: String(fields.deploymentId),
      ...(typeof fields.message === 'string' ? { message: fields.message } : {}),
    };
    this.emit('config-validation', { component: stream.component, ...validity });
    settle(validity);
    return {};
  }

  private async runDeployment(componentName: string, update: ConfigurationUpdate, validationTimeoutMs: number): Promise<DeploymentResult> {
    const record = this.components.require(componentName);
    let proposed = record.configuration;
    for (const pointer of update.reset ?? []) proposed = resetConfiguration(proposed, record.defaults, pointer);
    if (update.merge) proposed = mergeConfiguration(proposed, this.components.interpolated(update.merge));
    const changes = changedPaths(record.configuration, proposed);
    if (changes.length === 0) return { status: 'APPLIED' };

    const validator = this.validators.get(componentName);
    if (validator?.isOpen) {
      const report = await this.requestValidation(componentName, validator, proposed, validationTimeoutMs);
      if (typeof report === 'string') {
        return { status: 'REJECTED', message: `Error while waiting for validation report for one or more components: ${report}` };
      }
      if (report.status === 'REJECTED') {
        return {
          status: 'REJECTED',
          message: `Components reported that their to-be-deployed configuration is invalid { name = ${componentName}, message = ${report.message ?? 'null'} }`,
        };
      }
    }
    const current = this.components.require(componentName);
    const applied = changedPaths(current.configuration, proposed);
    this.components.applyConfiguration(current, proposed);
    this.notify(componentName, applied);
    return { status: 'APPLIED' };
  }

  private requestValidation(
    componentName: string,
    validator: RpcStream,
    configuration: ConfigObject,
    timeoutMs: number,
  ): Promise<ValidityReport | string> {
    const deploymentId = randomUUID();
    return new Promise((resolve) => {
      const settle = (report: ValidityReport | string): void => {
        clearTimeout(timer);
        if (this.pendingValidations.get(componentName) === settle) this.pendingValidations.delete(componentName);
        resolve(report);
      };
      const timer = setTimeout(() => settle(`no report within ${timeoutMs} ms`), timeoutMs);
      this.pendingValidations.set(componentName, settle);
      // SDK model ValidateConfigurationUpdateEvent: {configuration, deploymentId}; there is no componentName field.
      validator.sendEvent(Shapes.validateConfigurationUpdateEvents, { validateConfigurationUpdateEvent: { configuration, deploymentId } });
    });
  }

  private notify(componentName: string, changes: string[][]): void {
    for (const subscription of this.subscriptions) {
      if (subscription.target.toLowerCase() !== componentName.toLowerCase() || !subscription.stream.isOpen) continue;
      for (const keyPath of changes) {
        if (isWithin(keyPath, subscription.keyPath)) {
          subscription.stream.sendEvent(Shapes.configurationUpdateEvents, { configurationUpdateEvent: { componentName, keyPath } });
        }
      }
    }
  }
}
