// The seed report's WebSocket server (ws 8): closes every connection as soon as it opens.
//   node server.js [--port N] [--host H] [--code C] [--reason R] [--no-code]
// --no-code is the seed's `conn.close()` variant (the client sees 1005). Prints
// "listening PORT" on stdout once it listens, so closewire can wait for it without sleeping.
"use strict";
const http = require("http");
const WebSocket = require("ws");

const args = { port: 0, host: "127.0.0.1", code: 4321, reason: "test", noCode: false };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const value = () => {
    if (i + 1 >= argv.length) fail(`${a} needs a value`);
    return argv[++i];
  };
  if (a === "--port") args.port = Number(value());
  else if (a === "--host") args.host = value();
  else if (a === "--code") args.code = Number(value());
  else if (a === "--reason") args.reason = value();
  else if (a === "--no-code") args.noCode = true;
  else fail(`unknown argument '${a}'`);
}

function fail(message) {
  process.stderr.write(`node-ws-server: ${message}\n`);
  process.exit(2);
}

// As in the seed: an http server handing upgrades to a noServer ws server.
const wss = new WebSocket.Server({ noServer: true });
const server = http.createServer();
server.on("upgrade", (request, socket, head) => {
  wss.handleUpgrade(request, socket, head, (ws) => wss.emit("connection", ws, request));
});
wss.on("connection", (conn) => {
  if (args.noCode) conn.close();
  else conn.close(args.code, args.reason);
});
server.on("error", (e) => fail(e.message));
server.listen({ host: args.host, port: args.port }, () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => process.exit(0));
