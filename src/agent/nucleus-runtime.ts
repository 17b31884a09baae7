/**
 * Which Greengrass runtime the agent runs under. One recipe serves both (every manifest has `runtime: "*"`), so the
 * lifecycle cannot say; the nucleus's own answers do. The classic nucleus serves
 * SubscribeToValidateConfigurationUpdates; nucleus lite answers it with a ServiceError (docs/nucleus-lite.md). A
 * wrong guess errs on the safe side: a classic core taken for lite only gets smaller reports.
 */
export type NucleusRuntime = 'classic' | 'lite';

export function runtimeFromValidation(validationServed: boolean): NucleusRuntime {
  return validationServed ? 'classic' : 'lite';
}

export function describeRuntime(runtime: NucleusRuntime): string {
  return runtime === 'lite'
    ? 'nucleus lite (it does not serve configuration validation)'
    : 'the classic Greengrass nucleus (it serves configuration validation)';
}
