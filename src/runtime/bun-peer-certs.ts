import { createServer as createHttpServer, type IncomingMessage } from "node:http";
import { createServer as createTlsServer, type TLSSocket } from "node:tls";
import { getRequestListener } from "@hono/node-server";
import type { ClientCertificate, Listener, ServeOptions } from "./types.ts";

/**
 * An https listener whose handlers learn each connection's verified client certificate: what
 * `[peers.X.tls]` (a peer identified by its certificate) needs. `Bun.serve` verifies client
 * certificates in the handshake but does not tell the handler which one was presented (nor does
 * `node:https` on Bun: its request socket has no `getPeerCertificate`), so this path terminates
 * TLS with `node:tls`, whose sockets do, and hands each connection to a `node:http` server, with
 * `@hono/node-server` between Node's request/response and the relay's fetch handler. Used only
 * when some peer is identified by certificate; everything else is served by `Bun.serve`.
 *
 * Binding is synchronous on Bun (as `Bun.serve` is): a port that cannot be bound leaves the
 * server not listening when `listen` returns, reported as EADDRINUSE.
 */
export function servePeerCertificates(
  opts: ServeOptions & { tls: NonNullable<ServeOptions["tls"]> },
): Listener {
  const t = opts.tls;
  const idleMs = (opts.idleTimeout ?? 120) * 1000;
  const sockets = new Map<TLSSocket, { active: number; cert: ClientCertificate | undefined }>();
  let closing = false;
  let drained: (() => void) | undefined;
  const settle = () => {
    if (closing && sockets.size === 0) drained?.();
  };

  const handle = getRequestListener(
    (req, env) => {
      const incoming = (env as { incoming: IncomingMessage }).incoming;
      const socket = incoming.socket as TLSSocket;
      return opts.fetch(req, {
        remoteAddress: socket.remoteAddress ?? "",
        clientCertificate: sockets.get(socket)?.cert,
        keepOpen: () => socket.setTimeout(0),
      });
    },
    { overrideGlobalObjects: false },
  );
  const http = createHttpServer((incoming, outgoing) => {
    const socket = incoming.socket as TLSSocket;
    const s = sockets.get(socket);
    if (s) s.active++;
    outgoing.once("close", () => {
      if (s) s.active--;
      // stopping: a connection whose last request is answered is closed
      if (closing && s && s.active === 0) closeSoon(socket);
    });
    if (closing) outgoing.setHeader("connection", "close");
    void handle(incoming, outgoing);
  });
  const server = createTlsServer(
    {
      cert: t.cert,
      key: t.key,
      minVersion: t.minVersion === "1.3" ? "TLSv1.3" : "TLSv1.2",
      ...(t.clientCa ? { ca: t.clientCa, requestCert: true, rejectUnauthorized: true } : {}),
    },
    (socket) => {
      const x = socket.authorized ? socket.getPeerX509Certificate?.() : undefined;
      sockets.set(socket, {
        active: 0,
        cert: x ? { subject: x.subject, subjectAltName: x.subjectAltName } : undefined,
      });
      socket.setTimeout(idleMs, () => socket.destroy());
      socket.once("close", () => {
        sockets.delete(socket);
        settle();
      });
      http.emit("connection", socket);
    },
  );
  server.on("error", () => {}); // a failed bind is reported below; later errors are per connection
  server.listen(opts.port, opts.hostname);
  const addr = server.address();
  if (!server.listening || !addr || typeof addr === "string") {
    server.close();
    throw Object.assign(new Error(`cannot listen on ${opts.hostname}:${opts.port} (address in use)`), {
      code: "EADDRINUSE",
    });
  }
  return {
    port: addr.port,
    hostname: opts.hostname,
    stop: (force = false) => {
      closing = true;
      server.close();
      const done = new Promise<void>((resolve) => {
        drained = resolve;
      });
      for (const [socket, s] of sockets) {
        if (force) socket.destroy();
        else if (s.active === 0) closeSoon(socket);
      }
      settle();
      return done;
    },
  };
}

// internal

/** End a connection; one whose client does not close its side within 2 s is destroyed. */
function closeSoon(socket: TLSSocket): void {
  socket.end();
  setTimeout(() => socket.destroy(), 2000).unref?.();
}
