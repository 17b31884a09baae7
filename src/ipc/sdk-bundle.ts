/**
 * The file beside the agent's bundle that holds aws-iot-device-sdk-v2 and aws-crt (sdk-modules.ts bundled on its
 * own). The build writes it and lists it in the manifests that ship an aws-crt addon; the manifest for every other
 * architecture leaves it out, and there the agent runs its portable IPC client.
 */
export const SDK_BUNDLE_FILE = 'defender-agent-sdk.js';
