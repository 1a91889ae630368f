/** The typed OCP client: `openapi-fetch` over the types generated from the server's
 * /openapi.json (./schema.ts, never edited by hand: see ../generate). */
import createClient, { type Client } from "openapi-fetch";
import type { components, paths } from "./schema.js";

export type { components, operations, paths } from "./schema.js";
export type Schemas = components["schemas"];
export type OcpClient = Client<paths>;

/** A client of the API at `baseUrl` (`http://127.0.0.1:8000`, no trailing slash); with an
 * access token, every request carries it as the bearer. */
export function ocpClient(baseUrl: string, accessToken?: string): OcpClient {
  return createClient<paths>({
    baseUrl,
    headers: accessToken === undefined ? {} : { Authorization: `Bearer ${accessToken}` },
  });
}

/** POST /api/v1/auth/token, the OAuth2 password grant: a form, not JSON. */
export function logIn(client: OcpClient, email: string, password: string) {
  return client.POST("/api/v1/auth/token", {
    body: { grant_type: "password", username: email, password },
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
  });
}
