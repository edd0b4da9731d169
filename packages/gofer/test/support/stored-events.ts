/** Every event a server stored, read back through the history WebSocket (which closes once it is sent). */
import type { TestServer } from "./test-server.ts";
import { collectSocket } from "./websocket.ts";

export interface StoredEvent {
  id: string;
  kind: Record<string, Record<string, unknown>>;
}

/** Every stored event, oldest first. */
export async function storedEvents(server: TestServer): Promise<StoredEvent[]> {
  const { frames } = await collectSocket(server, "/api/events?history=true&reverse=true", 5000);
  return frames.map((frame): StoredEvent => JSON.parse(frame)).reverse();
}
