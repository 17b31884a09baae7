/**
 * The names the tool derives from what the operator typed (a quarantine group gives an IoT policy, an IAM role, a
 * mitigation action and task ids), each checked against its own shape in the AWS service models before the first
 * request, so a name AWS would refuse never fails halfway through a setup. The table copies the models' patterns
 * and lengths (iot 2015-05-28, iam 2010-05-08); test/scripts/gg/aws-names.test.ts holds it to the vendored models.
 */
import { UsageError } from './errors';
import { quotedInput } from './terminal-text';

export interface NameShape {
  /** Service and shape name in the model. */
  model: string;
  what: string;
  pattern: RegExp;
  characters: string;
  min: number;
  max: number;
}

export const NAME_SHAPES = {
  thingGroup: {
    model: 'iot ThingGroupName',
    what: 'thing group name',
    pattern: /^[a-zA-Z0-9:_-]+$/,
    characters: 'a-z A-Z 0-9 : _ -',
    min: 1,
    max: 128,
  },
  iotPolicy: {
    model: 'iot PolicyName',
    what: 'IoT policy name',
    pattern: /^[\w+=,.@-]+$/,
    characters: 'a-z A-Z 0-9 _ + = , . @ -',
    min: 1,
    max: 128,
  },
  iamRole: {
    model: 'iam roleNameType',
    what: 'IAM role name',
    pattern: /^[\w+=,.@-]+$/,
    characters: 'a-z A-Z 0-9 _ + = , . @ -',
    min: 1,
    max: 64,
  },
  mitigationAction: {
    model: 'iot MitigationActionName',
    what: 'mitigation action name',
    pattern: /^[a-zA-Z0-9_-]+$/,
    characters: 'a-z A-Z 0-9 _ -',
    min: 1,
    max: 128,
  },
  mitigationTaskId: {
    model: 'iot MitigationActionsTaskId',
    what: 'mitigation task id',
    pattern: /^[a-zA-Z0-9_-]+$/,
    characters: 'a-z A-Z 0-9 _ -',
    min: 1,
    max: 128,
  },
} as const satisfies Record<string, NameShape>;

export function nameProblem(shape: NameShape, name: string): string | undefined {
  if (name.length < shape.min || name.length > shape.max) return `${shape.min}-${shape.max} characters (it has ${name.length})`;
  if (!shape.pattern.test(name)) return `only ${shape.characters}`;
  return undefined;
}

/** Every derived name at once, so the operator sees each problem before anything is created. */
export function requireNames(flag: string, derived: readonly { shape: NameShape; name: string }[]): void {
  const problems = derived.flatMap(({ shape, name }) => {
    const problem = nameProblem(shape, name);
    return problem ? [`the ${shape.what} ${quotedInput(name)} needs ${problem}`] : [];
  });
  if (problems.length > 0) throw new UsageError(`--${flag} gives names AWS would refuse: ${problems.join('; ')}`);
}
