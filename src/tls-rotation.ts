import { unwatchFile, watchFile } from "node:fs";
import { reloadServerTls, type ServerTls } from "./config/tls.ts";
import type { Logger } from "./logger.ts";
import type { Listener, Runtime, ServeOptions } from "./runtime/index.ts";

/**
 * Certificate rotation without a restart. The certificate, key and client CA files are polled;
 * when one changes, they are read again with the start-up checks. A set that fails them is not
 * used (the old one goes on, and the log says why). A good one replaces the listener: the old
 * one stops accepting (its connections and in-flight requests finish) and a new one binds the
 * same port with the new certificate, so new connections get it within the poll interval.
 */
export interface TlsListener {
  current(): Listener;
  /** Read the files now (SIGHUP); resolves once a changed certificate is being served. */
  reload(): Promise<void>;
  stop(): void;
}

export function rotateCertificates(o: {
  runtime: Runtime;
  listener: Listener;
  serve: Omit<ServeOptions, "port" | "tls">;
  tls: ServerTls;
  /** Handlers learn each connection's client certificate (peers identified by certificate). */
  peerCertificates?: boolean;
  logger: Logger;
  everyMs?: number;
  /** Told of every certificate put in service (metrics). */
  onCertificate?: (t: ServerTls) => void;
}): TlsListener {
  let listener = o.listener;
  let tls = o.tls;
  let pending: Promise<void> | undefined;
  let again = false;
  let stopped = false;
  const reload = (): Promise<void> => {
    if (stopped) return Promise.resolve();
    if (pending) {
      // a file changed while a reload ran (a key written after its certificate): read again after
      again = true;
      return pending;
    }
    pending = (async () => {
      let next: ServerTls;
      try {
        next = reloadServerTls(tls);
      } catch (err) {
        o.logger.warn(
          { problem: (err as Error).message },
          "TLS certificate not reloaded: keeping the one in service",
        );
        return;
      }
      if (next.cert === tls.cert && next.key === tls.key && next.clientCa === tls.clientCa) return;
      if (stopped) return; // the relay is stopping: bind nothing new
      const port = listener.port;
      // stop() closes the listening socket at once and resolves when in-flight requests are done:
      // bind the new listener right away, so new connections are refused only for that instant
      const old = listener;
      const draining = old
        .stop(false)
        .catch((err) =>
          o.logger.warn({ problem: (err as Error).message }, "old TLS listener did not close cleanly"),
        );
      const bind = () =>
        o.runtime.serve({
          ...o.serve,
          port,
          tls: {
            cert: next.cert,
            key: next.key,
            minVersion: next.minVersion,
            ...(next.clientCa ? { clientCa: next.clientCa } : {}),
            ...(o.peerCertificates ? { peerCertificates: true } : {}),
          },
        });
      try {
        listener = bind();
      } catch {
        // a runtime that lets go of the port only once the old listener is done (Deno)
        await draining;
        listener = bind();
      }
      tls = next;
      o.onCertificate?.(next);
      o.logger.info(
        { cert: next.certFile, notAfter: new Date(next.notAfter).toISOString() },
        "TLS certificate reloaded",
      );
    })().finally(() => {
      pending = undefined;
      if (again) {
        again = false;
        void reload();
      }
    });
    return pending;
  };
  const files = [tls.certFile, tls.keyFile, ...(tls.clientCaFile ? [tls.clientCaFile] : [])];
  const onChange = (cur: { mtimeMs: number }, prev: { mtimeMs: number }) => {
    if (cur.mtimeMs !== prev.mtimeMs) void reload();
  };
  for (const f of files) watchFile(f, { interval: o.everyMs ?? 2000, persistent: false }, onChange);
  return {
    current: () => listener,
    reload,
    stop: () => {
      stopped = true;
      for (const f of files) unwatchFile(f, onChange);
    },
  };
}
