// Test helper: a loopback TCP proxy whose connections can be cut and restored, to simulate a
// client losing its connection to a server that stays up (outage tests without killing etcd).
import { createServer, connect, type Socket } from "node:net";

export interface TcpProxy {
  /** Port the proxy listens on (127.0.0.1). */
  port: number;
  /** Drops every open connection and refuses new ones until restore(). */
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export const startTcpProxy = (target: { host: string; port: number }): Promise<TcpProxy> =>
  new Promise((resolve, reject) => {
    const sockets = new Set<Socket>();
    let down = false;
    const track = (s: Socket): void => {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => s.destroy());
    };
    const server = createServer((client) => {
      track(client);
      if (down) {
        client.destroy();
        return;
      }
      const upstream = connect(target.port, target.host);
      track(upstream);
      client.pipe(upstream);
      upstream.pipe(client);
      client.on("close", () => upstream.destroy());
      upstream.on("close", () => client.destroy());
    });
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const addr = server.address();
      if (typeof addr !== "object" || !addr) return reject(new Error("proxy has no address"));
      resolve({
        port: addr.port,
        cut: () => {
          down = true;
          for (const s of sockets) s.destroy();
        },
        restore: () => {
          down = false;
        },
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
