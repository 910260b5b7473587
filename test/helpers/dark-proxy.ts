import type { Socket, TCPSocketListener } from "bun";

/**
 * A TCP proxy on 127.0.0.1 in front of `targetPort` that can make the path go dark: while dark,
 * the bytes of open connections are dropped in both directions without a reset (a silent
 * partition, as far as those connections can tell) and new connections are refused. It counts
 * the bytes it delivers each way.
 */
export interface DarkProxy {
  url: string;
  port: number;
  /** Bytes delivered from the target back to clients, and from clients to the target. */
  toClient: number;
  toTarget: number;
  setDark(dark: boolean): void;
  /** Close every open connection on both sides (a client's pooled connections go with them). */
  cut(): void;
  stop(): void;
}

interface Pair {
  client: Socket<Pair>;
  target?: Socket<{ pair: Pair }>;
  queued: Uint8Array[];
  /** What a socket did not take yet (backpressure), per direction. */
  backlog: Map<Socket<unknown>, Uint8Array[]>;
}

/** Write everything, in order: what the socket does not take now goes on its `drain`. */
function send(pair: Pair, sock: Socket<unknown>, chunk: Uint8Array): void {
  const waiting = pair.backlog.get(sock);
  if (waiting?.length) {
    waiting.push(new Uint8Array(chunk));
    return;
  }
  const n = sock.write(chunk);
  if (n < chunk.length) pair.backlog.set(sock, [new Uint8Array(chunk.subarray(Math.max(n, 0)))]);
}

function drain(pair: Pair, sock: Socket<unknown>): void {
  const waiting = pair.backlog.get(sock);
  while (waiting?.length) {
    const head = waiting[0]!;
    const n = sock.write(head);
    if (n < head.length) {
      waiting[0] = head.subarray(Math.max(n, 0));
      return;
    }
    waiting.shift();
  }
}

export async function startDarkProxy(targetPort: number): Promise<DarkProxy> {
  let dark = false;
  const pairs = new Set<Pair>();
  const proxy: DarkProxy = {
    url: "",
    port: 0,
    toClient: 0,
    toTarget: 0,
    setDark(on) {
      if (on === dark) return;
      dark = on;
      if (on) {
        listener.stop(false);
      } else {
        listener = listen(proxy.port);
      }
    },
    cut() {
      for (const p of pairs) {
        p.client.end();
        p.target?.end();
      }
      pairs.clear();
    },
    stop() {
      listener.stop(true);
      for (const p of pairs) {
        p.client.end();
        p.target?.end();
      }
    },
  };
  const listen = (port: number): TCPSocketListener<Pair> =>
    Bun.listen<Pair>({
      hostname: "127.0.0.1",
      port,
      socket: {
        open(client) {
          const pair: Pair = { client, queued: [], backlog: new Map() };
          client.data = pair;
          pairs.add(pair);
          void Bun.connect<{ pair: Pair }>({
            hostname: "127.0.0.1",
            port: targetPort,
            data: { pair },
            socket: {
              open(target) {
                pair.target = target;
                for (const chunk of pair.queued.splice(0)) {
                  proxy.toTarget += chunk.length;
                  send(pair, target as Socket<unknown>, chunk);
                }
              },
              data(_t, chunk) {
                if (dark) return;
                proxy.toClient += chunk.length;
                send(pair, pair.client as Socket<unknown>, chunk);
              },
              drain(target) {
                drain(pair, target as Socket<unknown>);
              },
              close() {
                if (!dark) pair.client.end();
                pairs.delete(pair);
              },
              error() {
                pair.client.end();
              },
            },
          }).catch(() => client.end());
        },
        data(client, chunk) {
          if (dark) return;
          const pair = client.data;
          if (!pair.target) {
            pair.queued.push(new Uint8Array(chunk));
            return;
          }
          proxy.toTarget += chunk.length;
          send(pair, pair.target as Socket<unknown>, chunk);
        },
        drain(client) {
          drain(client.data, client as Socket<unknown>);
        },
        close(client) {
          if (!dark) client.data.target?.end();
        },
      },
    });
  let listener = listen(0);
  proxy.port = listener.port;
  proxy.url = `http://127.0.0.1:${listener.port}`;
  return proxy;
}
