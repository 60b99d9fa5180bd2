import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/fake-openai-server.ts';

const tools: OpenAI.Chat.Completions.ChatCompletionTool[] = [
  {
    type: 'function',
    function: {
      name: 'run_python',
      description: 'Run Python code',
      parameters: { type: 'object', properties: { code: { type: 'string' } } },
    },
  },
];
const user = (content: string) => [{ role: 'user' as const, content }];

describe('fake OpenAI server, driven by the real openai client', () => {
  let fake: FakeOpenAI;
  const client = (maxRetries: number, timeout = 10_000) =>
    new OpenAI({ apiKey: 'test', baseURL: fake.baseUrl, maxRetries, timeout });

  beforeEach(async () => {
    fake = await startFakeOpenAI();
  });
  afterEach(async () => {
    await fake.close();
  });

  it('streams a text answer in several chunks that reassemble', async () => {
    fake.script({ kind: 'text', text: 'Hello from the fake, héllo 👋' });
    const stream = await client(0).chat.completions.create({
      model: 'gpt-test',
      messages: user('hi'),
      stream: true,
    });
    const contents: string[] = [];
    let finish: string | null = null;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      if (choice?.delta.content) contents.push(choice.delta.content);
      finish = choice?.finish_reason ?? finish;
    }
    expect(contents.length).toBeGreaterThan(1);
    expect(contents.join('')).toBe('Hello from the fake, héllo 👋');
    expect(finish).toBe('stop');
  });

  it('streams tool calls with arguments split across chunks (stream helper)', async () => {
    const args = JSON.stringify({ code: 'print(sum(range(10)))' });
    fake.script({
      kind: 'tool',
      text: 'Let me run that.',
      calls: [
        { name: 'run_python', arguments: args, id: 'call_a' },
        { name: 'run_python', arguments: '{"code":"1+1"}' },
      ],
    });
    const stream = client(0).chat.completions.stream({
      model: 'gpt-test',
      messages: user('sum'),
      tools,
    });
    const argumentDeltas: string[] = [];
    stream.on('tool_calls.function.arguments.delta', (e) => {
      if (e.index === 0) argumentDeltas.push(e.arguments_delta);
    });
    const final = await stream.finalChatCompletion();
    const choice = final.choices[0];
    expect(choice?.finish_reason).toBe('tool_calls');
    expect(choice?.message.content).toBe('Let me run that.');
    expect(argumentDeltas.filter((d) => d !== '').length).toBeGreaterThan(1);
    expect(choice?.message.tool_calls).toEqual([
      { id: 'call_a', type: 'function', function: { name: 'run_python', arguments: args } },
      {
        id: expect.stringMatching(/^call_/) as unknown,
        type: 'function',
        function: { name: 'run_python', arguments: '{"code":"1+1"}' },
      },
    ]);
  });

  it('answers a non-stream tool call with usage', async () => {
    fake.script({ kind: 'tool', calls: [{ name: 'run_python', arguments: '{"code":"2**10"}' }] });
    const completion = await client(0).chat.completions.create({
      model: 'gpt-test',
      messages: user('pow'),
      tools,
    });
    const choice = completion.choices[0];
    expect(choice?.finish_reason).toBe('tool_calls');
    expect(choice?.message.content).toBeNull();
    const call = choice?.message.tool_calls?.[0];
    expect(call?.type === 'function' && call.function).toEqual({
      name: 'run_python',
      arguments: '{"code":"2**10"}',
    });
    expect(completion.model).toBe('gpt-test');
    expect(completion.usage?.total_tokens).toBeGreaterThan(0);
  });

  it('answers non-stream text', async () => {
    fake.script({ kind: 'text', text: 'plain' });
    const completion = await client(0).chat.completions.create({
      model: 'gpt-test',
      messages: user('hi'),
    });
    expect(completion.choices[0]?.message.content).toBe('plain');
    expect(completion.choices[0]?.finish_reason).toBe('stop');
  });

  it('retries a 429 with retry-after 0 and then succeeds', async () => {
    fake.script(
      { kind: 'status', status: 429, headers: { 'retry-after': '0' } },
      { kind: 'text', text: 'after the rate limit' },
    );
    const completion = await client(1).chat.completions.create({
      model: 'gpt-test',
      messages: user('hi'),
    });
    expect(completion.choices[0]?.message.content).toBe('after the rate limit');
    expect(fake.requests).toHaveLength(2);
    expect(fake.requests[1]?.headers['x-stainless-retry-count']).toBe('1');
  });

  it('surfaces a 500 as an APIError when retries are off', async () => {
    fake.script({ kind: 'status', status: 500 });
    const error = await client(0)
      .chat.completions.create({ model: 'gpt-test', messages: user('hi') })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(500);
    expect((error as InstanceType<typeof OpenAI.APIError>).type).toBe('server_error');
    expect(fake.requests).toHaveLength(1);
  });

  it('passes malformed tool arguments through as the raw string', async () => {
    const broken = '{"code": "print(1)"';
    fake.script(
      { kind: 'tool', calls: [{ name: 'run_python', arguments: broken }] },
      { kind: 'tool', calls: [{ name: 'run_python', arguments: broken }] },
    );
    const plain = await client(0).chat.completions.create({
      model: 'gpt-test',
      messages: user('x'),
      tools,
    });
    const plainCall = plain.choices[0]?.message.tool_calls?.[0];
    expect(plainCall?.type === 'function' && plainCall.function.arguments).toBe(broken);

    const streamed = await client(0)
      .chat.completions.stream({ model: 'gpt-test', messages: user('x'), tools })
      .finalChatCompletion();
    const streamedCall = streamed.choices[0]?.message.tool_calls?.[0];
    expect(streamedCall?.function.arguments).toBe(broken);
  });

  it('records requests with their messages, tools, stream flag and headers', async () => {
    fake.script({ kind: 'text', text: 'one' });
    const messages: OpenAI.Chat.Completions.ChatCompletionMessageParam[] = [
      { role: 'system', content: 'be brief' },
      { role: 'user', content: 'first' },
    ];
    await client(0).chat.completions.create({ model: 'gpt-test', messages, tools });
    // Nothing scripted: the fallback answer.
    const second = await client(0).chat.completions.create({
      model: 'other',
      messages: user('second'),
    });
    expect(second.choices[0]?.message.content).toBe('(no scripted reply)');
    expect(fake.requests.map((r) => r.body.model)).toEqual(['gpt-test', 'other']);
    expect(fake.requests[0]?.body.messages).toEqual(messages);
    expect(fake.requests[0]?.body.tools).toEqual(tools);
    expect(fake.requests[0]?.body.stream).toBeUndefined();
    expect(fake.requests[0]?.headers.authorization).toBe('Bearer test');
  });

  it('lets a function reply decide from the request', async () => {
    fake.script(
      { kind: 'tool', calls: [{ name: 'run_python', arguments: '{"code":"6*7"}', id: 'c1' }] },
      (request) => {
        const last = request.body.messages.at(-1) as { role: string; content: string };
        return last.role === 'tool'
          ? { kind: 'text', text: `The answer is ${last.content}.` }
          : { kind: 'status', status: 400 };
      },
    );
    const openai = client(0);
    const first = await openai.chat.completions.create({
      model: 'gpt-test',
      messages: user('6*7?'),
      tools,
    });
    const assistant = first.choices[0]?.message;
    if (!assistant) throw new Error('no choice');
    const answer = await openai.chat.completions.create({
      model: 'gpt-test',
      messages: [...user('6*7?'), assistant, { role: 'tool', tool_call_id: 'c1', content: '42' }],
      tools,
    });
    expect(answer.choices[0]?.message.content).toBe('The answer is 42.');
    expect(fake.requests[1]?.body.messages).toHaveLength(3);
  });

  it('hangs until the client times out, and close() cuts a hanging request off', async () => {
    fake.script({ kind: 'hang' }, { kind: 'hang' });
    await expect(
      client(0, 200).chat.completions.create({ model: 'gpt-test', messages: user('hi') }),
    ).rejects.toBeInstanceOf(OpenAI.APIConnectionTimeoutError);

    const pending = client(0, 60_000)
      .chat.completions.create({ model: 'gpt-test', messages: user('hi') })
      .catch((e: unknown) => e);
    await expect.poll(() => fake.requests.length).toBe(2);
    await fake.close();
    // The request ended because close() dropped its connection, not because the client's
    // minute ran out: close() does not wait for hanging requests.
    const ended = await pending;
    expect(ended).toBeInstanceOf(OpenAI.APIConnectionError);
    expect(ended).not.toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    fake = await startFakeOpenAI(); // afterEach closes this one
  });

  it('lists one model', async () => {
    const models = await client(0).models.list();
    expect(models.data.map((m) => m.id)).toEqual(['fake-model']);
  });
});
