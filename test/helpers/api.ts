/**
 * The API as the tests run it: `createApi` listening on a free loopback port, parsing every answer with
 * the client's schemas before sending it (validateAnswers; a mismatch is a 500 the test sees).
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type ApiOptions, createApi } from "../../relayer/api";

export async function serveApi(o: ApiOptions): Promise<{ server: Server; url: string }> {
  const server = createApi({ validateAnswers: true, ...o }).listen(0, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}
