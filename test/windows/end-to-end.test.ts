import { nucleusPipeName, windowsPath } from './end-to-end';

describe('the named pipe the Windows end to end serves', () => {
  it("is the nucleus's name for its root: NucleusNamedPipe- and the root's letters, digits and dashes", () => {
    // WindowsPlatform.prepareIpcFilepath keeps [a-zA-Z0-9-] of the root path.
    expect(nucleusPipeName('C:\\greengrass\\v2')).toBe('\\\\.\\pipe\\NucleusNamedPipe-Cgreengrassv2');
    expect(nucleusPipeName(windowsPath('/tmp/windows-test-Ab1_x/e2e-sdk/root'))).toBe(
      '\\\\.\\pipe\\NucleusNamedPipe-Ztmpwindows-test-Ab1xe2e-sdkroot',
    );
    // The pattern of the nucleus's own test (WindowsPlatformTest, good_pattern).
    expect(nucleusPipeName('c:\\this\\is\\a\\test')).toMatch(/^\\\\\.\\pipe\\NucleusNamedPipe-[a-zA-Z0-9-]+$/);
  });

  it('refuses a root whose name would pass 256 characters, where the nucleus takes a random one instead', () => {
    const longest = `C:\\${'a'.repeat(256 - '\\\\.\\pipe\\NucleusNamedPipe-C'.length)}`;
    expect(nucleusPipeName(longest)).toHaveLength(256);
    expect(() => nucleusPipeName(`${longest}b`)).toThrow(/longer than the nucleus allows/);
  });
});
