import { bundledPackageCopies } from '../../../scripts/build/build';

describe('bundledPackageCopies', () => {
  it('finds each copy of a package among the bundled files, nested copies included', () => {
    const files = [
      'src/main.ts',
      'node_modules/aws-crt/dist/native/io.js',
      'node_modules/aws-crt/dist/native/mqtt.js',
      'node_modules/aws-iot-device-sdk-v2/dist/eventstream_rpc.js',
      'node_modules/aws-iot-device-sdk-v2/node_modules/aws-crt/dist/native/eventstream.js',
    ];
    expect(bundledPackageCopies(files, 'aws-crt')).toEqual([
      'node_modules/aws-crt',
      'node_modules/aws-iot-device-sdk-v2/node_modules/aws-crt',
    ]);
    expect(bundledPackageCopies(files, 'aws-iot-device-sdk-v2')).toEqual(['node_modules/aws-iot-device-sdk-v2']);
  });

  it('does not take a package whose name only begins like it', () => {
    expect(bundledPackageCopies(['node_modules/aws-crt-extra/index.js'], 'aws-crt')).toEqual([]);
  });
});
