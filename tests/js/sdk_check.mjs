// The official openai npm SDK against aiport: node sdk_check.mjs BASE_URL API_KEY
// Prints "js sdk ok" and exits 0 when every check holds; throws otherwise.
import assert from "node:assert/strict";
import OpenAI from "openai";

const [baseURL, apiKey] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0 });
const messages = [{ role: "user", content: "Was ist maschinelles Lernen?" }];
// Bounded: the embedded 135M model may ramble to its context size (a minute under load).
const max_tokens = 48;

const reply = await client.chat.completions.create({ model: "gpt-4o", messages, max_tokens });
assert.ok(reply.choices[0].message.content.length > 0);

let text = "";
const stream = await client.chat.completions.create({
  model: "gpt-4o",
  messages,
  max_tokens,
  stream: true,
});
for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
assert.ok(text.length > 0);

// The Responses API, streamed: the SDK's event types, one response, its text assembled.
const events = [];
const responseStream = await client.responses.create({
  model: "gpt-4o", input: "Hallo!", max_output_tokens: 16, stream: true,
});
for await (const event of responseStream) events.push(event);
assert.equal(events[0].type, "response.created");
assert.ok(["response.completed", "response.incomplete"].includes(events.at(-1).type));
const deltas = events.filter((e) => e.type === "response.output_text.delta").map((e) => e.delta);
assert.ok(deltas.length > 0);
assert.equal(deltas.join(""), events.at(-1).response.output_text ?? deltas.join(""));
assert.deepEqual(events.map((e) => e.sequence_number), events.map((_, i) => i));

// The JS SDK, like the Python one, asks for base64 and decodes it to floats itself.
const embedding = await client.embeddings.create({ model: "text-embedding-3-small", input: "x" });
assert.ok(embedding.data[0].embedding.length > 0);
assert.ok(embedding.data[0].embedding.every((v) => typeof v === "number"));

const models = await client.models.list();
assert.ok(models.data.length > 0);

await assert.rejects(
  client.models.retrieve("no-such-model-anywhere"),
  (err) => err instanceof OpenAI.NotFoundError && err.code === "model_not_found",
);
const wrong = new OpenAI({ baseURL, apiKey: "sk-wrong", maxRetries: 0 });
await assert.rejects(
  wrong.chat.completions.create({ model: "gpt-4o", messages }),
  (err) => err instanceof OpenAI.AuthenticationError && err.code === "invalid_api_key",
);
await assert.rejects(
  client.chat.completions.create({ model: "gpt-4o", messages, temperature: 3 }),
  (err) => err instanceof OpenAI.BadRequestError && err.param === "temperature",
);
console.log("js sdk ok");
