/** Retry what fails with "database is locked/busy" (several processes creating a file at once). */
export function retryLocked(fn: () => void, attempts = 50): void {
  for (let i = 0; ; i++) {
    try {
      fn();
      return;
    } catch (err) {
      const msg = String((err as Error).message ?? err);
      if (i >= attempts || !/locked|busy/i.test(msg)) throw err;
      sleepSync(5 + Math.random() * 20);
    }
  }
}

// internal

const sleeper = new Int32Array(new SharedArrayBuffer(4));
function sleepSync(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}
