import { invalidParams } from "../errors.ts";

/** ListTasks page tokens: an opaque cursor (updatedAt, id) of the last task on the page. */
export function encodePageToken(updatedAt: number, id: string): string {
  return Buffer.from(JSON.stringify([updatedAt, id])).toString("base64url");
}

export function decodePageToken(token: string): { updatedAt: number; id: string } {
  try {
    const v = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as unknown;
    if (Array.isArray(v) && typeof v[0] === "number" && typeof v[1] === "string") {
      return { updatedAt: v[0], id: v[1] };
    }
  } catch {
    // fall through
  }
  throw invalidParams("pageToken is not one this relay issued", "pageToken");
}
