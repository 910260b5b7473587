/** The `fetch` the relay calls upstreams, peers and push endpoints with: injected, so tests pass their own. */
export type FetchFn = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;
