/** UpdateState: a component reports its lifecycle state; the core tells its user. */
import type { EmitEvent, OperationHandler } from './core-events';
import { ModeledError, qualified } from './service-model';

const LIFECYCLE_STATES = new Set(['RUNNING', 'ERRORED']);

export function updateStateHandler(emit: EmitEvent): [string, OperationHandler] {
  return [
    qualified('UpdateState'),
    (stream, request) => {
      const state = request.state;
      // The nucleus fails on the unknown enum value with an exception it reports as a ServiceError.
      if (typeof state !== 'string' || !LIFECYCLE_STATES.has(state))
        throw new ModeledError('ServiceError', `Invalid state: ${String(state)}`);
      emit('state', { component: stream.component, state });
      return {};
    },
  ];
}
