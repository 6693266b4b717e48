import assert from "node:assert/strict";
import { connect, type AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { startEcho } from "./external-servers.js";

describe("echo service", () => {
  it("greets with the source IP, then echoes what it receives until the client closes", async () => {
    const server = await startEcho("127.0.0.1", 0);
    try {
      const { port } = server.address() as AddressInfo;
      const received = await new Promise<string>((resolve, reject) => {
        const socket = connect({ host: "127.0.0.1", port });
        let text = "";
        socket.setEncoding("utf8");
        socket.on("error", reject);
        socket.on("data", (d: string) => {
          text += d;
          if (text === "echo: hello 127.0.0.1\n") socket.write("seq 1\nseq 2\n");
          if (text.endsWith("seq 2\n")) socket.end();
        });
        socket.on("close", () => resolve(text));
      });
      assert.equal(received, "echo: hello 127.0.0.1\nseq 1\nseq 2\n");
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
