// Reads an undici response in full (bodies are always consumed, in tests too) and parses it
// as JSON when it is JSON.
import type { Dispatcher } from 'undici';

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
