// Preloaded (`node --import`) into the Gemini CLI's A2A server under test: it calls
// `listen(port)` with no host, which binds every interface with no authentication. A listen
// without a host binds 127.0.0.1 instead, so nothing off this machine can reach it.
import net from "node:net";

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  const [first, second] = args;
  const portOnly = typeof first === "number" || (typeof first === "string" && /^\d+$/.test(first));
  if (portOnly && (args.length === 1 || typeof second === "function")) args.splice(1, 0, "127.0.0.1");
  else if (first && typeof first === "object" && first.path === undefined && first.host === undefined) {
    args[0] = { ...first, host: "127.0.0.1" };
  }
  return listen.apply(this, args);
};
