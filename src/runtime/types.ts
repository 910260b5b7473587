/**
 * The seam between the relay and its runtime. Everything Bun-specific (or, later, Deno-specific)
 * lives behind this interface; the rest of the code only sees these types.
 */

/** How a runtime opens SQLite inside the worker: an import line and three expressions over `db`. */
export interface WorkerSqlite {
  importLine: string;
  /** Expression opening `path` (a variable in scope). */
  open: string;
  /** Statement running the SQL in `sql` (a variable in scope) on `db`. */
  exec: string;
}

/** A synchronous SQLite connection: just what the store needs. */
export interface SqliteConnection {
  exec(sql: string): void;
  /** Run a statement and return all rows as objects. */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): T[];
  /** Prepare a parameterless statement once, to run it many times (transaction control). */
  prepare(sql: string): { run(): void };
  close(): void;
}

export interface Listener {
  readonly port: number;
  readonly hostname: string;
  stop(force?: boolean): Promise<void>;
}

/** A client certificate verified in the mutual-TLS handshake, as `X509Certificate` renders it. */
export interface ClientCertificate {
  /** Distinguished name, one `KEY=value` a line. */
  subject: string;
  /** `DNS:host-a, IP Address:10.0.0.1, URI:…`, when the certificate has the extension. */
  subjectAltName?: string | undefined;
}

export interface RequestInfo {
  remoteAddress: string;
  /** The connection's verified client certificate; only where `tls.peerCertificates` asked for it. */
  clientCertificate?: ClientCertificate | undefined;
  /** Stop the server from timing out this connection (long blocking calls, SSE). */
  keepOpen(): void;
}

export interface ServeOptions {
  hostname: string;
  port: number;
  fetch: (req: Request, info: RequestInfo) => Response | Promise<Response>;
  /** Seconds a connection may stay idle; SSE sends keepalives well within it. */
  idleTimeout?: number;
  /** Serve https; with `clientCa`, every client must present a certificate it signed. */
  tls?: {
    cert: string;
    key: string;
    minVersion: "1.2" | "1.3";
    clientCa?: string;
    /** Tell handlers each connection's verified client certificate (`RequestInfo.clientCertificate`). */
    peerCertificates?: boolean;
  };
}

export interface SpawnOptions {
  cmd: string[];
  cwd: string;
  env: Record<string, string>;
}

export interface ChildProcess {
  readonly pid: number;
  readonly stdout: ReadableStream<Uint8Array>;
  readonly stderr: ReadableStream<Uint8Array>;
  readonly exited: Promise<number>;
  /** Signal the whole process group. */
  killGroup(signal: "SIGTERM" | "SIGKILL"): void;
}

export interface Runtime {
  readonly name: "bun" | "deno";
  openSqlite(path: string): { conn: SqliteConnection; drizzle: unknown };
  /** How a worker thread opens SQLite (the background WAL checkpointer). */
  readonly workerSqlite: WorkerSqlite;
  serve(opts: ServeOptions): Listener;
  /** Load what `serve` will need for these options (absent: nothing to load). */
  prepare?(o: { peerCertificates?: boolean }): Promise<void>;
  spawn(opts: SpawnOptions): ChildProcess;
  /**
   * Read a `/proc` file (port-lease liveness); undefined when it cannot be read. Absent: read it
   * directly. Deno reads `/proc` only with `--allow-all`, so its runtime reads it through `cat`.
   */
  readProcFile?(path: string): string | undefined;
  /**
   * What to add to a fetch's init so it trusts `ca` (besides the system roots) and presents a
   * client certificate: Bun's `tls` option, Deno's `client`.
   */
  tlsInit(tls: { ca?: string[]; cert?: string; key?: string }): Record<string, unknown>;
  /**
   * The relay is up and has had a moment to answer its first requests. The compiled binary
   * starts with the JIT's tier-up thresholds raised (compile.sh: code that runs once at start is
   * not worth compiling); Bun goes back to the normal thresholds here.
   */
  started?(): void;
}
