// Reads an undici response in full (bodies are always consumed, in tests too) and parses it
// as JSON when it is JSON.
import { request, type Dispatcher } from 'undici';

export interface JsonAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
  text: string;
}

export async function readJsonAnswer(res: Dispatcher.ResponseData): Promise<JsonAnswer> {
  const text = await res.body.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  return { status: res.statusCode, headers: res.headers, body, text };
}

/** One call to RabbitMQ's management API (`path` below /api/), body read in full. */
export async function managementCall(
  dispatcher: Dispatcher,
  base: string,
  authorization: string,
  method: 'GET' | 'PUT' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<{ status: number; body: any; text: string }> {
  const headers: Record<string, string> = { authorization };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await request(`${base}/api/${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    dispatcher,
  });
  const answer = await readJsonAnswer(res);
  return { status: answer.status, body: answer.body, text: answer.text };
}
