/**
 * A 93-byte ONNX model (y = x + x, float32 [1, 4], opset 13) that the expert worker opens once per ORT
 * build to start the runtime before any real model is touched. Made with onnx-proto:
 * graph "probe", node Add(x, x) → y, producer "open-swarm-probe".
 */
const PROBE_BASE64 =
  "CAgSEG9wZW4tc3dhcm0tcHJvYmU6QQoOCgF4CgF4EgF5IgNBZGQSBXByb2JlWhMKAXgSDgoMCAESCAoCCAEKAggEYhMKAXkSDgoMCAESCAoCCAEKAggEQgQKABAN";

export const PROBE_MODEL: Uint8Array = Uint8Array.from(atob(PROBE_BASE64), (c) => c.charCodeAt(0));
