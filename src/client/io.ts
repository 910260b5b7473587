/** What a command may touch: its output streams and environment. Tests pass their own. */
export interface CliIO {
  out(text: string): void;
  err(text: string): void;
  env: Record<string, string | undefined>;
  /** Whether stderr is a terminal (live progress is drawn in place there). */
  tty?: boolean;
  /** Whether stdout is a terminal (the log is pretty there by default). */
  stdoutTty?: boolean;
  /** The terminal's width, when it is one. */
  columns?: number | undefined;
  /** Resolves when the process is asked to stop (SIGINT/SIGTERM). */
  stopSignal: Promise<string>;
  /** Called on each request to re-read configuration files (SIGHUP); absent in tests. */
  onReload?(listener: () => void): void;
}
