/**
 * Everything the SDK adapter (greengrass-ipc.ts) takes from aws-iot-device-sdk-v2 and aws-crt, in one module, so that
 * the build can make it a file of its own (sdk-bundle.ts): only the manifests that ship an aws-crt addon download
 * it, and the agent's bundle, which every core downloads, holds none of the SDK.
 */
export { cancel } from 'aws-crt';
export { eventstream_rpc, greengrasscoreipc } from 'aws-iot-device-sdk-v2';
