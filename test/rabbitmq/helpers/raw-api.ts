// Independent reads of the real API, to check what the client wrote without trusting it.
import { request } from 'undici';
import { ADMIN_PASS, ADMIN_USER, MGMT_URL } from './env.ts';

const auth = 'Basic ' + Buffer.from(`${ADMIN_USER}:${ADMIN_PASS}`).toString('base64');

export async function rawGet(path: string): Promise<{ status: number; json: unknown }> {
  const res = await request(MGMT_URL + path, { headers: { authorization: auth } });
  const text = await res.body.text(); // always consume: this helper must not leak either
  return { status: res.statusCode, json: text ? JSON.parse(text) : undefined };
}
