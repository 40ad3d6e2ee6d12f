import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { directoryUrlFor } from "../../../src/core/net/directory-client.ts";
import {
  decodeDirectoryClientFrame,
  decodeDirectoryServerFrame,
  parseDirectoryClientMessage,
  parseDirectoryServerMessage,
} from "../../../src/core/protocol/directory.ts";
import { capabilities } from "./helpers.ts";

const PEER_ID = "os" + "a".repeat(32);
const KEY = "A".repeat(43);
const SIG = "B".repeat(86);

describe("directory protocol parsing", () => {
  it("accepts well-formed client messages and strips unknown fields", () => {
    const join = {
      v: 2,
      type: "join",
      peerId: PEER_ID,
      publicKey: KEY,
      capabilities: capabilities(),
      signature: SIG,
    };
    expect(parseDirectoryClientMessage({ ...join, extra: "ignored" })).toEqual(join);
    expect(parseDirectoryClientMessage({ v: 2, type: "ping" })).toEqual({ v: 2, type: "ping" });
  });

  it("classifies bad frames with specific codes", () => {
    const code = (text: string): string | null => {
      const result = decodeDirectoryClientFrame(text);
      return result.ok ? null : result.code;
    };
    expect(code("{")).toBe("malformed_json");
    expect(code("null")).toBe("invalid_message");
    expect(code('"ping"')).toBe("invalid_message");
    expect(code('{"v":2}')).toBe("invalid_message");
    expect(code('{"v":2,"type":"hello"}')).toBe("unknown_type");
    expect(code('{"v":2,"type":"toString"}')).toBe("unknown_type");
    expect(code('{"v":1,"type":"ping"}')).toBe("invalid_message");
    expect(code('{"v":3,"type":"ping"}')).toBe("invalid_message");
    expect(code(`{"v":2,"type":"join","peerId":"${PEER_ID}"}`)).toBe("invalid_message");
    expect(code(" ".repeat(9000))).toBe("too_large");
    expect(code('{"v":2,"type":"ping"}')).toBeNull();
    expect(code('{"v":2,"type":"request-peers"}')).toBeNull();
    const old = decodeDirectoryClientFrame('{"v":1,"type":"ping"}');
    expect(old.ok ? "" : old.detail).toMatch(/unsupported protocol version 1/);
  });

  it("rejects ids, keys and signatures of the wrong form", () => {
    const join = {
      v: 2,
      type: "join",
      peerId: PEER_ID,
      publicKey: KEY,
      capabilities: capabilities(),
      signature: SIG,
    };
    expect(parseDirectoryClientMessage({ ...join, peerId: "os" + "A".repeat(32) })).toBeNull();
    expect(parseDirectoryClientMessage({ ...join, peerId: PEER_ID + "0" })).toBeNull();
    expect(parseDirectoryClientMessage({ ...join, publicKey: KEY.slice(1) })).toBeNull();
    expect(parseDirectoryClientMessage({ ...join, signature: SIG.replace("B", "+") })).toBeNull();
  });

  it("never throws on arbitrary input, in either direction", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json()), (text) => {
        decodeDirectoryClientFrame(text);
        decodeDirectoryServerFrame(text);
      }),
      { numRuns: 2_000 },
    );
    fc.assert(
      fc.property(fc.anything(), (value) => {
        parseDirectoryClientMessage(value);
        parseDirectoryServerMessage(value);
      }),
      { numRuns: 2_000 },
    );
  });

  it("parses server messages the client depends on", () => {
    const peer = { peerId: PEER_ID, publicKey: KEY, capabilities: capabilities(), joinedAtMs: 1 };
    const changed = { v: 2, type: "peers-changed", left: [], joined: [peer], updated: [], total: 1 };
    expect(parseDirectoryServerMessage(changed)).not.toBeNull();
    expect(parseDirectoryServerMessage({ ...changed, joined: [{ ...peer, joinedAtMs: -1 }] })).toBeNull();
    expect(parseDirectoryServerMessage({ ...changed, total: -1 })).toBeNull();
    expect(parseDirectoryServerMessage({ ...changed, v: 1 })).toBeNull();
    expect(parseDirectoryServerMessage({ v: 2, type: "pong", total: 3 })).not.toBeNull();
    // A welcome is a bounded sample: a server listing more than MAX_DIRECTORY_SAMPLE_PEERS is refused.
    const welcome = { v: 2, type: "welcome", sessionToken: "t".repeat(43), self: peer, total: 300 };
    expect(parseDirectoryServerMessage({ ...welcome, peers: Array(256).fill(peer) })).not.toBeNull();
    expect(parseDirectoryServerMessage({ ...welcome, peers: Array(257).fill(peer) })).toBeNull();
    expect(
      parseDirectoryServerMessage({ v: 2, type: "error", code: "bad_signature", message: "x" }),
    ).not.toBeNull();
    expect(parseDirectoryServerMessage({ v: 2, type: "error", code: "made_up", message: "x" })).toBeNull();
  });
});

describe("directoryUrlFor", () => {
  it("maps http to ws and https to wss on the directory path", () => {
    expect(directoryUrlFor("http://localhost:8080")).toBe("ws://localhost:8080/api/v1/directory");
    expect(directoryUrlFor("https://swarm.example.org/some/page")).toBe(
      "wss://swarm.example.org/api/v1/directory",
    );
    expect(() => directoryUrlFor("ftp://example.org")).toThrow(/http\(s\) origin/);
  });
});
