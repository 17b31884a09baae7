/**
 * A nucleus can keep the connection open and stop answering (hung, or its side of this one connection stuck): every
 * call then ends at its deadline, the socket never closes, and without this the agent would log "outcome unknown"
 * at every cycle and never reconnect. Both IPC clients go through this watch.
 *
 * One call past its deadline is not enough to give up on the connection: a nucleus answers PublishToIoTCore only
 * once the message is handed on, which can take long on a loaded core. So a call that times out starts a liveness
 * check, a GetConfiguration the nucleus answers from memory; any answer, an error included, shows the connection
 * alive. When the check gets no answer within its own deadline either, the connection is declared dead, and the
 * supervisor drops it and reconnects with its usual backoff.
 */
import { type IpcConnection, IpcError, type Subscription, type ValidationRequest } from '../ipc/ipc';

/** A key every configuration of the component has: a read of it is answered from the nucleus's memory. */
const LIVENESS_KEY_PATH = ['intervalSeconds'];

export function watchLiveness(connection: IpcConnection, onDead: (reason: string) => void): IpcConnection {
  let checking = false;
  let dead = false;

  const check = (operation: string): void => {
    if (checking || dead) return;
    checking = true;
    connection.getConfiguration(LIVENESS_KEY_PATH).then(
      () => {
        checking = false;
      },
      (error: unknown) => {
        checking = false;
        if (dead || !(error instanceof IpcError && error.kind === 'timeout')) return;
        dead = true;
        onDead(`the nucleus answered neither ${operation} nor a liveness check within their deadlines: the connection is open but dead`);
      },
    );
  };

  const watched = <T>(operation: string, call: Promise<T>): Promise<T> =>
    call.catch((error: unknown) => {
      if (error instanceof IpcError && error.kind === 'timeout') check(operation);
      throw error;
    });

  const watchedConnection: IpcConnection = {
    publishToIoTCore: (topic: string, payload: Buffer, qos: '0' | '1') =>
      watched('PublishToIoTCore', connection.publishToIoTCore(topic, payload, qos)),
    subscribeToIoTCore: (topic: string, onMessage: (payload: Buffer, topic: string) => void, onEnded?: (reason: string) => void) =>
      watched('SubscribeToIoTCore', connection.subscribeToIoTCore(topic, onMessage, onEnded)),
    getConfiguration: (keyPath: string[]) => watched('GetConfiguration', connection.getConfiguration(keyPath)),
    subscribeToConfigurationUpdate: (onUpdate: (keyPath: string[]) => void): Promise<Subscription> =>
      watched('SubscribeToConfigurationUpdate', connection.subscribeToConfigurationUpdate(onUpdate)),
    subscribeToValidateConfigurationUpdates: (onValidate: (request: ValidationRequest) => void): Promise<Subscription> =>
      watched('SubscribeToValidateConfigurationUpdates', connection.subscribeToValidateConfigurationUpdates(onValidate)),
    sendConfigurationValidityReport: (deploymentId: string, accepted: boolean, message?: string) =>
      watched('SendConfigurationValidityReport', connection.sendConfigurationValidityReport(deploymentId, accepted, message)),
    onDisconnect: (listener: (reason: string) => void) => connection.onDisconnect(listener),
    close: () => connection.close(),
  };
  const publishToTopic = connection.publishToTopic?.bind(connection);
  if (publishToTopic) {
    watchedConnection.publishToTopic = (topic: string, payload: Buffer) => watched('PublishToTopic', publishToTopic(topic, payload));
  }
  return watchedConnection;
}
