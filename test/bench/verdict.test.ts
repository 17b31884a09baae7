import { targetsVerdict } from './verdict';

describe('the bench verdict', () => {
  it('exits 0 when every target is met', () => {
    expect(targetsVerdict([])).toEqual({ text: '\nall targets met', exitCode: 0 });
  });

  it('exits non-zero and names each target missed', () => {
    const verdict = targetsVerdict(['idle agent RSS (portable) 50 MiB (goal 45 MiB)', 'sample 2.1x (goal 2x)']);
    expect(verdict.exitCode).toBe(1);
    expect(verdict.text).toBe('\ntargets missed:\n  idle agent RSS (portable) 50 MiB (goal 45 MiB)\n  sample 2.1x (goal 2x)');
  });
});
