/**
 * `fetch` that adds `Authorization: Bearer TOKEN` to every request (none without a token): what
 * the SDK clients take as `fetchImpl` to reach a relay.
 */
export function bearerFetch(token: string | undefined): typeof fetch {
  return Object.assign(
    (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
      const headers = new Headers(init?.headers);
      if (token) headers.set("authorization", `Bearer ${token}`);
      return fetch(input, { ...init, headers });
    },
    { preconnect: fetch.preconnect },
  );
}
